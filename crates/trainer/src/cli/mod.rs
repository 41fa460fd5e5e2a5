//! One module per subcommand: argument parsing and printing only; the work lives in the library.

pub mod batch;
mod eval_html;
pub mod evaluate;
pub mod export;
pub mod generate;
pub mod import;
pub mod inspect;
pub mod jsonl;
mod model_file;
pub mod progress;
pub mod recommend;
pub mod report;
pub mod segment;
pub mod serve;
pub mod signing;
pub mod train;
pub mod user_token;
