//! One module per subcommand: argument parsing and printing only; the work lives in the library.

pub mod batch;
pub mod evaluate;
pub mod generate;
pub mod import;
pub mod inspect;
mod model_file;
pub mod recommend;
pub mod train;
