//! The small dense algebra the edge needs: a `d × d` Cholesky solve for fold-in (d ≤ 256).
//! Kept here (rather than a linear-algebra crate) so the wasm binary stays small; the trainer
//! uses faer for its heavy lifting.

/// Solves `A x = b` in place for symmetric positive-definite `a` (`n × n`, row-major; it is
/// overwritten by its Cholesky factor). Returns `false` if `a` is not positive definite
/// or the sizes disagree, leaving `b` unspecified.
#[must_use]
pub fn cholesky_solve(a: &mut [f32], b: &mut [f32], n: usize) -> bool {
    if a.len() != n * n || b.len() != n {
        return false;
    }
    // Factor: A = L Lᵀ, L stored in the lower triangle (f64 accumulation for stability).
    for j in 0..n {
        let mut d = f64::from(a[j * n + j]);
        for k in 0..j {
            let l = f64::from(a[j * n + k]);
            d -= l * l;
        }
        if d <= 0.0 || !d.is_finite() {
            return false;
        }
        let d = d.sqrt();
        #[allow(clippy::cast_possible_truncation)]
        {
            a[j * n + j] = d as f32;
        }
        for i in j + 1..n {
            let mut s = f64::from(a[i * n + j]);
            for k in 0..j {
                s -= f64::from(a[i * n + k]) * f64::from(a[j * n + k]);
            }
            #[allow(clippy::cast_possible_truncation)]
            {
                a[i * n + j] = (s / d) as f32;
            }
        }
    }
    // Forward: L y = b.
    for i in 0..n {
        let mut s = f64::from(b[i]);
        for k in 0..i {
            s -= f64::from(a[i * n + k]) * f64::from(b[k]);
        }
        #[allow(clippy::cast_possible_truncation)]
        {
            b[i] = (s / f64::from(a[i * n + i])) as f32;
        }
    }
    // Backward: Lᵀ x = y.
    for i in (0..n).rev() {
        let mut s = f64::from(b[i]);
        for k in i + 1..n {
            s -= f64::from(a[k * n + i]) * f64::from(b[k]);
        }
        #[allow(clippy::cast_possible_truncation)]
        {
            b[i] = (s / f64::from(a[i * n + i])) as f32;
        }
    }
    b.iter().all(|x| x.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_spd_system() {
        // A = [[4,2],[2,3]], x = [1,-1] → b = [2,-1]
        let mut a = vec![4.0, 2.0, 2.0, 3.0];
        let mut b = vec![2.0, -1.0];
        assert!(cholesky_solve(&mut a, &mut b, 2));
        assert!((b[0] - 1.0).abs() < 1e-5 && (b[1] + 1.0).abs() < 1e-5);
    }

    #[test]
    fn rejects_indefinite_and_bad_sizes() {
        let mut a = vec![1.0, 2.0, 2.0, 1.0];
        let mut b = vec![1.0, 1.0];
        assert!(!cholesky_solve(&mut a, &mut b, 2));
        assert!(!cholesky_solve(&mut [1.0], &mut [1.0, 2.0], 2));
    }
}
