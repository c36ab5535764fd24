//! Integration tests of the diff layer: schema diff scored against the
//! Apicurio compatibility suite, document diff round trips (property test
//! and SchemaStore fixtures), drift, and the JSON output contract.

#[path = "diff/apicurio.rs"]
mod apicurio;
#[path = "diff/coverage.rs"]
mod coverage;
#[path = "diff/document.rs"]
mod document;
#[path = "diff/drift.rs"]
mod drift;
#[path = "diff/oracle.rs"]
mod oracle;
#[path = "diff/schema.rs"]
mod schema;
#[path = "diff/util.rs"]
mod util;
#[path = "diff/verdicts.rs"]
mod verdicts;
