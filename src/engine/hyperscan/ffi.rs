//! The only unsafe code of the Hyperscan engine: `extern "C"` declarations for the handful of
//! libhs functions keysift calls, and safe owners of the two handles it keeps (a compiled
//! database, per-thread scratch space). Declared by hand rather than generated with bindgen,
//! which would need libclang at build time for eleven functions.
//!
//! Works with Intel's Hyperscan 5.x and with Vectorscan, which keeps the same ABI.

use std::{
    ffi::{c_char, c_int, c_uint, c_ulonglong, c_void, CStr, CString},
    ptr,
};

#[repr(C)]
struct RawDatabase {
    _private: [u8; 0],
}

#[repr(C)]
struct RawScratch {
    _private: [u8; 0],
}

#[repr(C)]
struct RawCompileError {
    message: *const c_char,
    expression: c_int,
}

#[repr(C)]
struct RawExpressionInfo {
    min_width: c_uint,
    max_width: c_uint,
    unordered_matches: c_char,
    matches_at_eod: c_char,
    matches_only_at_eod: c_char,
}

type MatchHandler = unsafe extern "C" fn(
    id: c_uint,
    from: c_ulonglong,
    to: c_ulonglong,
    flags: c_uint,
    context: *mut c_void,
) -> c_int;

const HS_SUCCESS: c_int = 0;
const HS_MODE_BLOCK: c_uint = 1;

/// Compile flag: match a superset of the pattern's matches (Hyperscan may simplify it).
pub const FLAG_PREFILTER: c_uint = 128;

extern "C" {
    fn hs_compile_multi(
        expressions: *const *const c_char,
        flags: *const c_uint,
        ids: *const c_uint,
        elements: c_uint,
        mode: c_uint,
        platform: *const c_void,
        db: *mut *mut RawDatabase,
        error: *mut *mut RawCompileError,
    ) -> c_int;
    fn hs_free_compile_error(error: *mut RawCompileError) -> c_int;
    fn hs_expression_info(
        expression: *const c_char,
        flags: c_uint,
        info: *mut *mut RawExpressionInfo,
        error: *mut *mut RawCompileError,
    ) -> c_int;
    fn hs_free_database(db: *mut RawDatabase) -> c_int;
    fn hs_serialize_database(
        db: *const RawDatabase,
        bytes: *mut *mut c_char,
        length: *mut usize,
    ) -> c_int;
    fn hs_deserialize_database(
        bytes: *const c_char,
        length: usize,
        db: *mut *mut RawDatabase,
    ) -> c_int;
    fn hs_alloc_scratch(db: *const RawDatabase, scratch: *mut *mut RawScratch) -> c_int;
    fn hs_clone_scratch(src: *const RawScratch, dest: *mut *mut RawScratch) -> c_int;
    fn hs_free_scratch(scratch: *mut RawScratch) -> c_int;
    fn hs_scan(
        db: *const RawDatabase,
        data: *const c_char,
        length: c_uint,
        flags: c_uint,
        scratch: *mut RawScratch,
        on_event: MatchHandler,
        context: *mut c_void,
    ) -> c_int;
    fn hs_version() -> *const c_char;
    // libhs allocates serialized databases and expression info with the C library's malloc
    // (keysift installs no custom allocator), so they are released with its free.
    fn free(pointer: *mut c_void);
}

/// The library's version string, e.g. `5.4.0 2021-04-22`.
pub fn version() -> &'static str {
    // SAFETY: hs_version returns a pointer to a static NUL-terminated string.
    unsafe { CStr::from_ptr(hs_version()) }
        .to_str()
        .unwrap_or("unknown")
}

/// Why libhs refused a set of patterns.
#[derive(Debug, Clone)]
pub struct CompileError {
    /// The library's message.
    pub message: String,
    /// Index of the offending pattern, when the error concerns one.
    pub expression: Option<usize>,
}

/// Takes ownership of a compile error from libhs, copying it out and freeing it.
///
/// # Safety
/// `error` must be null or a compile error returned by libhs and not yet freed.
unsafe fn take_compile_error(error: *mut RawCompileError) -> CompileError {
    if error.is_null() {
        return CompileError {
            message: "unknown error".into(),
            expression: None,
        };
    }
    // SAFETY: per the contract, `error` points to a live hs_compile_error_t whose message is
    // a NUL-terminated string owned by it.
    let taken = unsafe {
        CompileError {
            message: CStr::from_ptr((*error).message)
                .to_string_lossy()
                .into_owned(),
            expression: usize::try_from((*error).expression).ok(),
        }
    };
    // SAFETY: freed once, after the last read above.
    unsafe { hs_free_compile_error(error) };
    taken
}

fn c_string(pattern: &str) -> Result<CString, CompileError> {
    CString::new(pattern).map_err(|_| CompileError {
        message: "pattern contains a NUL byte".into(),
        expression: None,
    })
}

/// The shortest match a pattern can have, or why libhs cannot compile it. Parses only; much
/// cheaper than compiling.
pub fn min_match_width(pattern: &str, flags: u32) -> Result<u32, CompileError> {
    let pattern = c_string(pattern)?;
    let mut info: *mut RawExpressionInfo = ptr::null_mut();
    let mut error: *mut RawCompileError = ptr::null_mut();
    // SAFETY: `pattern` is NUL-terminated and outlives the call; both out-pointers are valid.
    let status = unsafe { hs_expression_info(pattern.as_ptr(), flags, &mut info, &mut error) };
    if status != HS_SUCCESS || info.is_null() {
        // SAFETY: on failure `error` is null or a fresh compile error that we now own.
        return Err(unsafe { take_compile_error(error) });
    }
    // SAFETY: on success `info` is a malloc'd hs_expr_info_t that we own and free once.
    let width = unsafe { (*info).min_width };
    unsafe { free(info.cast()) };
    Ok(width)
}

/// A compiled block-mode pattern database.
#[derive(Debug)]
pub struct Database(ptr::NonNull<RawDatabase>);

// SAFETY: a compiled database is immutable; libhs documents it as safe to scan from many
// threads at once, each with its own scratch.
unsafe impl Send for Database {}
// SAFETY: as above; no method mutates the database.
unsafe impl Sync for Database {}

impl Database {
    /// Compiles `patterns` into one database; pattern `i` reports matches with id `i`.
    pub fn compile(patterns: &[String], flags: &[u32]) -> Result<Database, CompileError> {
        assert_eq!(patterns.len(), flags.len(), "one flag word per pattern");
        let owned = patterns
            .iter()
            .map(|p| c_string(p))
            .collect::<Result<Vec<_>, _>>()?;
        let pointers: Vec<*const c_char> = owned.iter().map(|p| p.as_ptr()).collect();
        let ids: Vec<c_uint> = (0..patterns.len() as c_uint).collect();
        let mut db: *mut RawDatabase = ptr::null_mut();
        let mut error: *mut RawCompileError = ptr::null_mut();
        // SAFETY: the three arrays have `patterns.len()` elements and outlive the call; the
        // strings they point to are NUL-terminated; a null platform means "this machine".
        let status = unsafe {
            hs_compile_multi(
                pointers.as_ptr(),
                flags.as_ptr(),
                ids.as_ptr(),
                patterns.len() as c_uint,
                HS_MODE_BLOCK,
                ptr::null(),
                &mut db,
                &mut error,
            )
        };
        match ptr::NonNull::new(db) {
            Some(db) if status == HS_SUCCESS => Ok(Database(db)),
            // SAFETY: on failure `error` is null or a fresh compile error that we now own.
            _ => Err(unsafe { take_compile_error(error) }),
        }
    }

    /// The database as bytes, for the on-disk cache.
    pub fn serialize(&self) -> Result<Vec<u8>, String> {
        let mut bytes: *mut c_char = ptr::null_mut();
        let mut length = 0usize;
        // SAFETY: the database is live; both out-pointers are valid.
        let status = unsafe { hs_serialize_database(self.0.as_ptr(), &mut bytes, &mut length) };
        if status != HS_SUCCESS || bytes.is_null() {
            return Err(format!("hs_serialize_database failed ({status})"));
        }
        // SAFETY: on success `bytes` is a malloc'd buffer of `length` bytes that we own.
        let copy = unsafe { std::slice::from_raw_parts(bytes.cast::<u8>(), length) }.to_vec();
        // SAFETY: freed once, after the copy.
        unsafe { free(bytes.cast()) };
        Ok(copy)
    }

    /// A database from [`Database::serialize`]'s bytes. libhs checks the bytes' version and
    /// platform and refuses a mismatch.
    pub fn deserialize(bytes: &[u8]) -> Result<Database, String> {
        let mut db: *mut RawDatabase = ptr::null_mut();
        // SAFETY: `bytes` is a valid slice for the duration of the call; libhs copies what it
        // needs into a new allocation.
        let status =
            unsafe { hs_deserialize_database(bytes.as_ptr().cast(), bytes.len(), &mut db) };
        match ptr::NonNull::new(db) {
            Some(db) if status == HS_SUCCESS => Ok(Database(db)),
            _ => Err(format!("hs_deserialize_database failed ({status})")),
        }
    }

    /// Scratch space for scanning this database from one thread.
    pub fn alloc_scratch(&self) -> Result<HsScratch, String> {
        let mut scratch: *mut RawScratch = ptr::null_mut();
        // SAFETY: the database is live; a null `scratch` asks for a fresh allocation.
        let status = unsafe { hs_alloc_scratch(self.0.as_ptr(), &mut scratch) };
        match ptr::NonNull::new(scratch) {
            Some(scratch) if status == HS_SUCCESS => Ok(HsScratch(scratch)),
            _ => Err(format!("hs_alloc_scratch failed ({status})")),
        }
    }

    /// Calls `on_match(pattern id, end offset)` for every match end in `haystack`, which must
    /// be shorter than 4 GiB (block mode takes a 32-bit length).
    pub fn scan<F: FnMut(u32, usize)>(
        &self,
        haystack: &[u8],
        scratch: &mut HsScratch,
        mut on_match: F,
    ) -> Result<(), String> {
        let length = c_uint::try_from(haystack.len()).map_err(|_| "block too large")?;
        unsafe extern "C" fn trampoline<F: FnMut(u32, usize)>(
            id: c_uint,
            _from: c_ulonglong,
            to: c_ulonglong,
            _flags: c_uint,
            context: *mut c_void,
        ) -> c_int {
            // SAFETY: `context` is the `&mut F` passed to hs_scan below, live for the scan.
            let on_match = unsafe { &mut *context.cast::<F>() };
            on_match(id, to as usize);
            0
        }
        // SAFETY: the database and scratch are live, and the scratch was allocated for this
        // database (or cloned from such a scratch) and is used by this thread only (`&mut`);
        // `haystack` is valid for `length` bytes; `context` points to `on_match`, which outlives
        // the call and matches the trampoline's type parameter.
        let status = unsafe {
            hs_scan(
                self.0.as_ptr(),
                haystack.as_ptr().cast(),
                length,
                0,
                scratch.0.as_ptr(),
                trampoline::<F>,
                (&mut on_match as *mut F).cast(),
            )
        };
        if status == HS_SUCCESS {
            Ok(())
        } else {
            Err(format!("hs_scan failed ({status})"))
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        // SAFETY: we own the database and free it once.
        unsafe { hs_free_database(self.0.as_ptr()) };
    }
}

/// Per-thread scratch space for [`Database::scan`].
#[derive(Debug)]
pub struct HsScratch(ptr::NonNull<RawScratch>);

// SAFETY: scratch may move between threads; it is only ever used by one at a time, which
// `&mut` in `scan` and the missing `Sync` impl guarantee.
unsafe impl Send for HsScratch {}

impl HsScratch {
    /// An independent copy for another thread.
    pub fn try_clone(&self) -> Result<HsScratch, String> {
        let mut copy: *mut RawScratch = ptr::null_mut();
        // SAFETY: the source scratch is live and only read.
        let status = unsafe { hs_clone_scratch(self.0.as_ptr(), &mut copy) };
        match ptr::NonNull::new(copy) {
            Some(copy) if status == HS_SUCCESS => Ok(HsScratch(copy)),
            _ => Err(format!("hs_clone_scratch failed ({status})")),
        }
    }
}

impl Drop for HsScratch {
    fn drop(&mut self) {
        // SAFETY: we own the scratch and free it once.
        unsafe { hs_free_scratch(self.0.as_ptr()) };
    }
}
