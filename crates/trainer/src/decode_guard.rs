//! The parquet crate can panic on a corrupt file (an out-of-range bit width, a lying footer)
//! instead of returning an error. Every Parquet read of the trainer (the interactions importer,
//! `edgerec pack`'s artefacts) runs through [`guarded`], so such a file is an error naming it,
//! never a crash of the process.

/// Runs `f`; a panic inside it becomes `Err` with the panic's message.
///
/// # Errors
/// The panic's message (or "corrupt data" when it carried none).
pub(crate) fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("corrupt data")
            .to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::guarded;

    #[test]
    fn a_panic_is_an_error_with_its_message() {
        assert_eq!(guarded(|| 7), Ok(7));
        let r: Result<(), String> = guarded(|| panic!("bit width {} out of range", 70));
        assert_eq!(r, Err("bit width 70 out of range".to_owned()));
    }
}
