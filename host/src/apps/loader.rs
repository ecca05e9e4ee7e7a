//! Finding and loading app libraries. Each failure becomes one readable sentence naming the file and what to do.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use abi_stable::library::{lib_header_from_path, LibraryError};
use tatsu_abi::{AppDescriptor, AppModuleRef, INTERFACE_VERSION};

/// A loaded app library (never unloaded: abi_stable leaks libraries on purpose).
pub struct Library {
    /// The file it was loaded from.
    pub path: PathBuf,
    /// Its root module.
    pub module: AppModuleRef,
    /// What the app says about itself.
    pub descriptor: AppDescriptor,
}

/// The candidate library files in `dir` (`*.so`), sorted by name; other files are skipped with a debug line.
pub fn discover(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if !path.is_file() {
            continue;
        }
        if path.extension().is_some_and(|ext| ext == std::env::consts::DLL_EXTENSION) {
            files.push(path);
        } else {
            log::debug!(target: "tatsu::apps", "{}: skipped: not a .{} file", path.display(), std::env::consts::DLL_EXTENSION);
        }
    }
    files.sort();
    Ok(files)
}

/// Loads the library at `path` and checks that it is a tatsu app built for this host's interface.
///
/// Must run on a plain thread, not a coroutine: initialising a library needs more stack than a coroutine has.
pub fn load(path: &Path) -> Result<Library, String> {
    let module = lib_header_from_path(path)
        .and_then(|header| header.init_root_module::<AppModuleRef>())
        .map_err(|e| explain(&e))?;
    let descriptor = module.describe()();
    Ok(Library { path: path.to_owned(), module, descriptor })
}

fn explain(error: &LibraryError) -> String {
    match error {
        LibraryError::OpenError { err, .. } => format!("not a loadable library ({err})"),
        LibraryError::GetSymbolError { .. } => {
            "not a tatsu app: the library has no tatsu root module (an app exports one with `export_app!`)".to_owned()
        }
        LibraryError::IncompatibleVersionNumber { actual_version, .. } => format!(
            "built against plugin-api interface version {actual_version}, but this host speaks {INTERFACE_VERSION}; \
             rebuild the app against a tatsu-plugin-api with interface {INTERFACE_VERSION}"
        ),
        LibraryError::ParseVersionError(e) => format!("the library's interface version is unreadable: {e}"),
        LibraryError::AbiInstability(e) => {
            let first_line = e.to_string().lines().find(|line| !line.trim().is_empty()).unwrap_or("").trim().to_owned();
            format!("its ABI layout differs from this host's (built against another tatsu-plugin-api): {first_line}")
        }
        LibraryError::InvalidAbiHeader(header) => format!(
            "built with an incompatible abi_stable (its ABI {}.{}); rebuild it against this tatsu's plugin-api",
            header.abi_major, header.abi_minor
        ),
        LibraryError::InvalidCAbi { .. } => "built by a compiler with a different C ABI; rebuild it".to_owned(),
        LibraryError::RootModule { err, .. } => format!("its root module failed to initialise: {err}"),
        LibraryError::Many(errors) => errors.iter().map(explain).collect::<Vec<_>>().join("; "),
    }
}
