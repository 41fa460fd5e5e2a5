//! Users' own profiles behind their user tokens, and the user-token secret.

use super::*;

/// `GET /users/{userId}/profile`: 401 without a token; 403 for a token that is forged, expired,
/// malformed or another user's; 404 for a user the model does not know; else the user's slice,
/// which makes the public model answer that user as the private one.
#[test]
fn user_profiles_need_that_users_token() {
    use edgerec_core::user_token::mint;
    const SECRET: &str = "test-user-token-secret";
    let s = start(
        "profile",
        &[
            "--no-train-on-start",
            "--no-eval-gate",
            "--user-token-secret",
            SECRET,
        ],
    );
    let mint = |u: &str, expiry: u64| mint(SECRET.as_bytes(), u, expiry).unwrap();
    let valid = |u: &str| mint(u, now() + 600);
    let get = |path: &str, token: &str| s.get(path, &[("authorization", &bearer(token))]);
    // No model yet: a valid token learns only that.
    let r = get("/users/user-3/profile", &valid("user-3"));
    assert_eq!(r.status, 404, "{:?}", r.json());
    assert!(r.json()["message"].as_str().unwrap().contains("no model"));

    let odd = "ann@example.com/x y";
    let mut bodies = traffic("p", 12, "hot-p", 1_700_000_000);
    bodies.push(batch(
        "odd-session",
        Some(odd),
        &[
            event("odd-1", "click", "item-5", 1_700_000_500),
            event("odd-2", "click", "item-6", 1_700_000_501),
        ],
    ));
    for b in bodies {
        assert_eq!(s.post("/events", Some(WRITE), &b).status, 200);
    }
    let o = s
        .post("/retrain?mode=full&wait=true", Some(ADMIN), "")
        .json();
    assert_eq!(o["status"], "published", "{o}");

    let path = "/users/user-3/profile";
    let r = s.get(path, &[]);
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["__type"], "UnauthorizedException");
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    let refused = [
        (valid("user-4"), "another user"),
        (mint("user-3", now() - 1), "expired"),
        (
            edgerec_core::user_token::mint(b"another-secret-1234567", "user-3", now() + 600)
                .unwrap(),
            "signature",
        ),
        (valid("user-3").replacen("v1.", "v2.", 1), "version"),
        (WRITE.to_owned(), "malformed"),
        (ADMIN.to_owned(), "malformed"),
    ];
    for (token, says) in refused {
        let r = get(path, &token);
        assert_eq!(r.status, 403, "{says}: {:?}", r.json());
        assert_eq!(r.json()["__type"], "AccessDeniedException");
        let message = r.json()["message"].as_str().unwrap().to_owned();
        assert!(message.contains(says), "{says}: {message}");
    }
    let r = get("/users/nobody/profile", &valid("nobody"));
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["__type"], "ResourceNotFoundException");

    // The model the server publishes, and its projection without people.
    let model_bytes = s.admin_get("/model", &[]).body;
    let private = Engine::from_bytes(&model_bytes).unwrap();
    let public_bytes =
        edgerec_core::format::encode(&public_model::without_people(private.model(), false))
            .unwrap();
    let mut public = Engine::from_bytes(&public_bytes).unwrap();
    let names: Vec<String> = private
        .model()
        .recommenders
        .iter()
        .filter(|r| r.recipe.name() != "popularity-count")
        .map(|r| r.name.clone())
        .collect();
    assert!(names.len() >= 3, "{names:?}");
    let ask = |e: &Engine, rec: &str, u: &str| {
        let req: GetRecommendationsRequest = serde_json::from_value(
            json!({"recommender": rec, "userId": u, "numResults": 25, "recommendationId": "r"}),
        )
        .unwrap();
        serde_json::to_value(e.get_recommendations(&req).unwrap()).unwrap()
    };
    for u in ["user-3", "user-7", odd] {
        let encoded: String = u
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b == b'-' {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let r = get(&format!("/users/{encoded}/profile"), &valid(u));
        assert_eq!(r.status, 200, "{u}: {:?}", r.json());
        assert_eq!(r.header("content-type"), Some("application/octet-stream"));
        assert_eq!(r.header("cache-control"), Some("private, no-store"));
        assert_eq!(r.header("x-edgerec-model-version"), Some("1"));
        assert_eq!(public.load_user_profile(&r.body).unwrap(), u);
        for rec in &names {
            assert_eq!(ask(&public, rec, u), ask(&private, rec, u), "{u} {rec}");
        }
    }

    // `edgerec user-token` mints what the server accepts.
    let out = Command::new(env!("CARGO_BIN_EXE_edgerec"))
        .args(["user-token", "--user-id", "user-7", "--ttl", "60"])
        .env("EDGEREC_USER_TOKEN_SECRET", SECRET)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap();
    assert_eq!(get("/users/user-7/profile", token.trim()).status, 200);
}

/// Without `--user-token-secret`, serve generates one into its tokens file, keeps it across
/// restarts, and `edgerec user-token --data-dir` mints with it.
#[test]
fn the_user_token_secret_is_generated_and_kept() {
    let s = start("profile-secret", &["--no-train-on-start", "--no-eval-gate"]);
    let data = s.dir.join("data");
    let tokens: Value =
        serde_json::from_slice(&std::fs::read(data.join("tokens.json")).unwrap()).unwrap();
    let secret = tokens["userTokenSecret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 16);
    for b in traffic("q", 6, "hot-q", 1_700_000_000) {
        assert_eq!(s.post("/events", Some(WRITE), &b).status, 200);
    }
    let o = s
        .post("/retrain?mode=full&wait=true", Some(ADMIN), "")
        .json();
    assert_eq!(o["status"], "published", "{o}");
    let mint = || {
        let out = Command::new(env!("CARGO_BIN_EXE_edgerec"))
            .args(["user-token", "--user-id", "user-2", "--data-dir"])
            .arg(&data)
            .env_remove("EDGEREC_USER_TOKEN_SECRET")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let token = mint();
    let r = s.get(
        "/users/user-2/profile",
        &[("authorization", &bearer(&token))],
    );
    assert_eq!(r.status, 200, "{:?}", r.json());
    let dir = s.kill_keep_dir();
    let s = start_in(dir, &["--no-train-on-start"]);
    let tokens: Value =
        serde_json::from_slice(&std::fs::read(data.join("tokens.json")).unwrap()).unwrap();
    assert_eq!(tokens["userTokenSecret"].as_str(), Some(secret.as_str()));
    let r = s.get(
        "/users/user-2/profile",
        &[("authorization", &bearer(&token))],
    );
    assert_eq!(r.status, 200);
    // Without a secret anywhere the command says where it looked.
    let out = Command::new(env!("CARGO_BIN_EXE_edgerec"))
        .args([
            "user-token",
            "--user-id",
            "u",
            "--data-dir",
            "/nonexistent-edgerec",
        ])
        .env_remove("EDGEREC_USER_TOKEN_SECRET")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("EDGEREC_USER_TOKEN_SECRET"));
}
