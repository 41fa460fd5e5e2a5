//! The trainer's dense matrices (factors, Gram matrices, the EASE and transition systems, the
//! content projection and item vectors, the context counts) are `ndarray` arrays laid out
//! row-major, as every array the trainer makes is (`Array2::zeros`, `from_shape_fn`, ...); faer
//! computes on views of their memory and the hot loops run over their rows as slices, without
//! copying.

use faer::{MatMut, MatRef};
use ndarray::{Array2, ArrayView2, ArrayViewMut2};

/// Why the conversions below cannot fail: no array of the trainer is ever transposed or sliced
/// in place, so each is one row-major block.
const ROW_MAJOR: &str = "the trainer's dense arrays are row-major";

/// faer's view of `a`, sharing its memory.
#[must_use]
pub fn faer_ref(a: ArrayView2<'_, f32>) -> MatRef<'_, f32> {
    let (rows, cols) = a.dim();
    MatRef::from_row_major_slice(a.to_slice().expect(ROW_MAJOR), rows, cols)
}

/// faer's mutable view of `a`, sharing its memory.
#[must_use]
pub fn faer_mut(a: ArrayViewMut2<'_, f32>) -> MatMut<'_, f32> {
    let (rows, cols) = a.dim();
    MatMut::from_row_major_slice_mut(a.into_slice().expect(ROW_MAJOR), rows, cols)
}

/// The rows of `a` one after the other.
#[must_use]
pub fn rows<A>(a: &Array2<A>) -> &[A] {
    a.as_slice().expect(ROW_MAJOR)
}

/// The rows of `a` one after the other, mutably.
#[must_use]
pub fn rows_mut<A>(a: &mut Array2<A>) -> &mut [A] {
    a.as_slice_mut().expect(ROW_MAJOR)
}

/// Row `r` of `a` (empty past the last row).
#[must_use]
pub fn row<A>(a: &Array2<A>, r: usize) -> &[A] {
    if r < a.nrows() {
        a.row(r).to_slice().expect(ROW_MAJOR)
    } else {
        &[]
    }
}

/// Row `r` of `a`, mutably (empty past the last row).
#[must_use]
pub fn row_mut<A>(a: &mut Array2<A>, r: usize) -> &mut [A] {
    if r < a.nrows() {
        a.row_mut(r).into_slice().expect(ROW_MAJOR)
    } else {
        &mut []
    }
}

/// The rows of `a` one after the other, as a vector (the array's own, when row-major).
#[must_use]
pub fn into_rows(a: Array2<f32>) -> Vec<f32> {
    if a.is_standard_layout() {
        a.into_raw_vec_and_offset().0
    } else {
        a.iter().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_share_the_arrays_memory_in_row_major_order() {
        let mut a = Array2::from_shape_fn((2, 3), |(r, c)| (r * 3 + c) as f32);
        assert_eq!(faer_ref(a.view())[(1, 2)], 5.0);
        faer_mut(a.view_mut())[(0, 1)] = 9.0;
        assert_eq!(a[(0, 1)], 9.0);
        assert_eq!(rows(&a), [0.0, 9.0, 2.0, 3.0, 4.0, 5.0]);
        rows_mut(&mut a)[5] = 7.0;
        assert_eq!(a[(1, 2)], 7.0);
        assert_eq!(row(&a, 1), [3.0, 4.0, 7.0]);
        assert!(row(&a, 2).is_empty());
        row_mut(&mut a, 0)[2] = 8.0;
        assert_eq!(a[(0, 2)], 8.0);
        assert!(row_mut(&mut a, 5).is_empty());
        assert_eq!(into_rows(a.clone()), rows(&a));
        assert_eq!(into_rows(a.t().to_owned()), [0.0, 3.0, 9.0, 4.0, 8.0, 7.0]);
    }
}
