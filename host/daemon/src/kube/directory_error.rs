//! Why the directory (and the owner reader it uses) could not answer: the
//! API server did not. Its own module so the owner reader, which the
//! directory is built on, does not depend back on the directory.

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("reading {what} from the API server: {source}")]
    Api { what: String, source: kube::Error },
}
