//! Loader for the retail catalogue (`data/retail`): products, categories and user profiles.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use serde::Deserialize;

use super::SynthError;

/// File names inside a catalogue directory.
pub const PRODUCTS_FILE: &str = "products.yaml";
/// Category list.
pub const CATEGORIES_FILE: &str = "categories.yaml";
/// Gzipped JSON array of user profiles (optional).
pub const USERS_FILE: &str = "users.json.gz";

/// One product of `products.yaml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Product {
    pub id: String,
    pub name: String,
    pub category: String,
    pub style: String,
    #[serde(default)]
    pub description: String,
    pub price: f64,
    /// `M`, `F` or absent.
    #[serde(default)]
    pub gender_affinity: Option<String>,
    #[serde(default, deserialize_with = "flag")]
    pub promoted: bool,
    #[serde(default, deserialize_with = "flag")]
    pub featured: bool,
    #[serde(default)]
    pub current_stock: i64,
    /// Image file name (images are not shipped).
    #[serde(default)]
    pub image: String,
    /// `UI` (web store) or `Alexa` (voice-only convenience-store items); absent means `UI`.
    #[serde(default)]
    pub where_visible: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
}

impl Product {
    /// Whether the product is shown in the web storefront (`where_visible` absent or containing `UI`).
    #[must_use]
    pub fn in_web_store(&self) -> bool {
        self.where_visible
            .as_deref()
            .is_none_or(|w| w.contains("UI"))
    }
}

/// One entry of `categories.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Category {
    pub id: u32,
    pub name: String,
    #[serde(default)]
    pub image: String,
    #[serde(default)]
    pub has_gender_affinity: bool,
}

/// One user profile of `users.json.gz` (contact details and device ids are not kept).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CatalogUser {
    pub id: String,
    #[serde(default)]
    pub username: String,
    /// `M` or `F`.
    #[serde(default)]
    pub gender: String,
    #[serde(default)]
    pub age: u32,
    /// `_`-joined preferred category names, e.g. `apparel_footwear_accessories`.
    #[serde(default)]
    pub persona: String,
    /// `lower_priced_products`, `all_discounts` or `discount_indifferent`.
    #[serde(default)]
    pub discount_persona: String,
}

impl CatalogUser {
    /// The persona's category names, in order of preference.
    pub fn persona_categories(&self) -> impl Iterator<Item = &str> {
        self.persona.split('_').filter(|s| !s.is_empty())
    }
}

/// The retail catalogue: products, categories and the pool of user profiles.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RetailCatalog {
    pub products: Vec<Product>,
    pub categories: Vec<Category>,
    /// Empty when the directory has no `users.json.gz`.
    pub users: Vec<CatalogUser>,
}

impl RetailCatalog {
    /// Load `products.yaml`, `categories.yaml` and (when present) `users.json.gz` from `dir`.
    ///
    /// # Errors
    /// A missing or unreadable products/categories file, malformed YAML/JSON/gzip, or invalid content
    /// (empty or duplicate ids, negative or non-finite prices).
    pub fn load(dir: &Path) -> Result<Self, SynthError> {
        let products = load_products(&dir.join(PRODUCTS_FILE))?;
        let categories = load_categories(&dir.join(CATEGORIES_FILE))?;
        let users_path = dir.join(USERS_FILE);
        let users = if users_path.exists() {
            load_users(&users_path)?
        } else {
            Vec::new()
        };
        Ok(RetailCatalog {
            products,
            categories,
            users,
        })
    }

    /// The product with this id.
    #[must_use]
    pub fn product(&self, id: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.id == id)
    }
}

/// Accept `true`/`false` and the strings `"true"`/`"false"`/`"yes"`/`"no"`.
fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
    }
    match Option::<Flag>::deserialize(d)? {
        None => Ok(false),
        Some(Flag::Bool(b)) => Ok(b),
        Some(Flag::Text(s)) => match s.to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "1" => Ok(true),
            "false" | "no" | "n" | "0" | "" => Ok(false),
            other => Err(serde::de::Error::custom(format!(
                "expected a boolean, found {other:?}"
            ))),
        },
    }
}

fn open(path: &Path) -> Result<File, SynthError> {
    File::open(path).map_err(|source| SynthError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn invalid(path: &Path, message: String) -> SynthError {
    SynthError::Invalid {
        path: path.to_path_buf(),
        message,
    }
}

/// Load and check `products.yaml`.
///
/// # Errors
/// See [`RetailCatalog::load`].
pub fn load_products(path: &Path) -> Result<Vec<Product>, SynthError> {
    let products: Vec<Product> =
        serde_norway::from_reader(BufReader::new(open(path)?)).map_err(|source| {
            SynthError::Yaml {
                path: path.to_path_buf(),
                source,
            }
        })?;
    let mut seen = HashSet::with_capacity(products.len());
    for (i, p) in products.iter().enumerate() {
        if p.id.is_empty() {
            return Err(invalid(path, format!("product #{} has an empty id", i + 1)));
        }
        if !seen.insert(p.id.as_str()) {
            return Err(invalid(path, format!("duplicate product id {:?}", p.id)));
        }
        if !p.price.is_finite() || p.price < 0.0 {
            return Err(invalid(
                path,
                format!("product {:?} has an invalid price {}", p.id, p.price),
            ));
        }
        if p.category.is_empty() {
            return Err(invalid(path, format!("product {:?} has no category", p.id)));
        }
    }
    Ok(products)
}

/// Load `categories.yaml`.
///
/// # Errors
/// See [`RetailCatalog::load`].
pub fn load_categories(path: &Path) -> Result<Vec<Category>, SynthError> {
    let categories: Vec<Category> = serde_norway::from_reader(BufReader::new(open(path)?))
        .map_err(|source| SynthError::Yaml {
            path: path.to_path_buf(),
            source,
        })?;
    let mut seen = HashSet::with_capacity(categories.len());
    for c in &categories {
        if !seen.insert(c.name.as_str()) {
            return Err(invalid(path, format!("duplicate category {:?}", c.name)));
        }
    }
    Ok(categories)
}

/// Load a gzipped (`.gz`) or plain JSON array of user profiles.
///
/// # Errors
/// See [`RetailCatalog::load`].
pub fn load_users(path: &Path) -> Result<Vec<CatalogUser>, SynthError> {
    let file = BufReader::new(open(path)?);
    let gz = path.extension().is_some_and(|e| e == "gz");
    let mut text = Vec::new();
    let read = if gz {
        flate2::read::GzDecoder::new(file).read_to_end(&mut text)
    } else {
        { file }.read_to_end(&mut text)
    };
    read.map_err(|source| SynthError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let users: Vec<CatalogUser> =
        serde_json::from_slice(&text).map_err(|source| SynthError::Json {
            path: path.to_path_buf(),
            source,
        })?;
    let mut seen = HashSet::with_capacity(users.len());
    for u in &users {
        if u.id.is_empty() || !seen.insert(u.id.as_str()) {
            return Err(invalid(
                path,
                format!("empty or duplicate user id {:?}", u.id),
            ));
        }
    }
    Ok(users)
}
