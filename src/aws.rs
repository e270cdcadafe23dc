//! Facts about AWS credentials that need no network: the account an access key ID belongs to,
//! and whether that account hands out canary tokens.

use std::collections::HashMap;
use std::sync::LazyLock;

/// The base32 alphabet of AWS unique IDs (`0`, `1`, `8` and `9` never occur).
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// The 12-digit AWS account that owns an access key ID (`AKIA…` or `ASIA…`), decoded offline.
///
/// The 16 characters after the prefix are base32; the account is bits 1 to 40 of the first six
/// decoded bytes (`(z & 0x7fffffffff80) >> 7` for the big-endian integer `z`). Only keys whose
/// fifth character is `Q` or later encode it: older IDs (`AKIAI…`, `AKIAJ…`) give `None` rather
/// than a wrong account.
pub fn account_id(key_id: &str) -> Option<String> {
    let bytes = key_id.as_bytes();
    if bytes.len() != 20 || !(bytes.starts_with(b"AKIA") || bytes.starts_with(b"ASIA")) {
        return None;
    }
    let mut value: u128 = 0;
    for &c in &bytes[4..] {
        let digit = BASE32.iter().position(|&b| b == c)?;
        value = (value << 5) | digit as u128;
    }
    // 16 characters are 80 bits; the account sits in the first 48.
    if (value >> 79) & 1 == 0 {
        return None;
    }
    let z = (value >> 32) as u64;
    let account = (z & 0x7fff_ffff_ff80) >> 7;
    Some(format!("{account:012}"))
}

/// Whether `value` is an access key ID: a four-letter prefix (`AKIA`, `ASIA`, `ABIA`, `ACCA`)
/// and 16 base32 characters.
pub fn is_access_key_id(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == 20
        && [&b"AKIA"[..], b"ASIA", b"ABIA", b"ACCA"].contains(&&bytes[..4])
        && bytes[4..].iter().all(|b| BASE32.contains(b))
}

/// What a report says of a canary token.
pub const CANARY_WARNING: &str = "a canary token: using it alerts whoever planted it";

/// The known canary-token accounts (`rules/canaries.toml`), embedded in the binary.
const CANARIES: &str = include_str!("../rules/canaries.toml");

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CanaryFile {
    services: Vec<CanaryService>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CanaryService {
    name: String,
    accounts: Vec<String>,
}

/// Account → the canary-token service that owns it, parsed once per process.
static CANARY_ACCOUNTS: LazyLock<HashMap<String, &'static str>> = LazyLock::new(|| {
    let file: CanaryFile = toml::from_str(CANARIES).expect("the built-in canary list parses");
    let mut accounts = HashMap::new();
    for service in file.services {
        let name: &'static str = Box::leak(service.name.into_boxed_str());
        for account in service.accounts {
            accounts.insert(account, name);
        }
    }
    accounts
});

/// The canary-token service that owns `account` (12 digits), if it is a known one: a key of
/// that account exists to raise an alarm when used.
pub fn canary_service(account: &str) -> Option<&'static str> {
    CANARY_ACCOUNTS.get(account).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canary_list_is_well_formed() {
        let file: CanaryFile = toml::from_str(CANARIES).unwrap();
        let mut seen = std::collections::HashSet::new();
        for service in &file.services {
            assert!(!service.accounts.is_empty(), "{}", service.name);
            for account in &service.accounts {
                assert!(
                    account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()),
                    "{account} is not 12 digits"
                );
                assert!(seen.insert(account.clone()), "{account} is listed twice");
            }
        }
        assert_eq!(seen.len(), 26);
    }

    #[test]
    fn keys_of_canary_accounts_are_known_as_such() {
        let thinkst = key_id_for(52_310_077_262, 5);
        let account = account_id(&thinkst).unwrap();
        assert_eq!(
            canary_service(&account),
            Some("Thinkst Canarytokens (canarytokens.org)")
        );
        assert_eq!(
            canary_service("982842642351"),
            Some("a canary-token service")
        );
        assert_eq!(canary_service("123456789012"), None);
        assert_eq!(
            canary_service(&account_id(&key_id_for(7, 1)).unwrap()),
            None
        );
    }

    #[test]
    fn published_key_ids_decode_to_their_accounts() {
        // Pairs published in AWS security research on key ID structure.
        assert_eq!(
            account_id("ASIAY34FZKBOKMUTVV7A").as_deref(),
            Some("609629065308")
        );
        assert_eq!(
            account_id("AKIASP2TPHJSQH3FJRUX").as_deref(),
            Some("171436882533")
        );
    }

    /// Builds a key ID for `account` the way AWS lays the bits out.
    fn key_id_for(account: u64, low_bits: u64) -> String {
        let z = (1u64 << 47) | (account << 7) | (low_bits & 0x7f);
        let value = (u128::from(z) << 32) | u128::from(low_bits as u32);
        let tail: String = (0..16)
            .rev()
            .map(|i| BASE32[((value >> (5 * i)) & 31) as usize] as char)
            .collect();
        format!("AKIA{tail}")
    }

    #[test]
    fn every_account_round_trips() {
        for (account, low) in [
            (0, 0),
            (1, 99),
            (123_456_789_012, 7),
            (999_999_999_999, u64::MAX),
            (42, 0x5a5a),
        ] {
            let id = key_id_for(account, low);
            assert_eq!(account_id(&id), Some(format!("{account:012}")), "{id}");
        }
    }

    #[test]
    fn old_ids_and_non_keys_have_no_account() {
        assert_eq!(account_id("AKIAIOSFODNN7EXAMPLE"), None);
        assert_eq!(account_id("AKIAJ5Q7R3ZZZZZZZZZZ"), None);
        assert_eq!(account_id("AROAY34FZKBOKMUTVV7A"), None);
        assert_eq!(account_id("ASIAY34FZKBOKMUTVV7"), None);
        assert_eq!(account_id("ASIAY34FZKBOKMUTVV10"), None);
    }
}

/// Names for AWS account IDs, so reports can say `prod-payments (123456789012)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountNames(std::collections::BTreeMap<String, String>);

/// Why an accounts file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error("cannot read accounts file {path}")]
    Read {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid {
        path: std::path::PathBuf,
        message: String,
    },
}

impl AccountNames {
    /// Loads a TOML file (`"123456789012" = "prod-payments"`, at the top level or under
    /// `[accounts]`) or, for any other extension, CSV lines `123456789012,prod-payments`
    /// (`#` comments and a header line are allowed).
    pub fn load(path: &std::path::Path) -> Result<AccountNames, AccountsError> {
        let text = crate::textfile::read(path).map_err(|source| AccountsError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let invalid = |message: String| AccountsError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let mut names = std::collections::BTreeMap::new();
        if path.extension().is_some_and(|e| e == "toml") {
            let table: toml::Table = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
            let table = match table.get("accounts") {
                Some(toml::Value::Table(inner)) => inner.clone(),
                _ => table,
            };
            for (id, name) in table {
                let toml::Value::String(name) = name else {
                    return Err(invalid(format!(
                        "the name of account `{id}` must be a string"
                    )));
                };
                names.insert(check_id(&id).map_err(invalid)?, name);
            }
        } else {
            for (number, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let (id, name) = line.split_once(',').ok_or_else(|| {
                    invalid(format!("line {}: expected `account-id,name`", number + 1))
                })?;
                let id = id.trim().trim_matches('"');
                if number == 0 && !id.chars().any(|c| c.is_ascii_digit()) {
                    continue; // a header line
                }
                let id = check_id(id).map_err(|m| invalid(format!("line {}: {m}", number + 1)))?;
                names.insert(id, name.trim().trim_matches('"').to_string());
            }
        }
        Ok(AccountNames(names))
    }

    /// The name given to an account, if any.
    pub fn name(&self, account: &str) -> Option<&str> {
        self.0.get(account).map(String::as_str)
    }
}

/// A list of AWS accounts (`--verify-skip-accounts`): one 12-digit ID a line, `#` comments,
/// anything after a comma ignored (so an `--accounts` CSV file serves too).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountList(pub std::collections::HashSet<String>);

impl AccountList {
    pub fn load(path: &std::path::Path) -> Result<AccountList, AccountsError> {
        let text = crate::textfile::read(path).map_err(|source| AccountsError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut accounts = std::collections::HashSet::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or_default().trim();
            let id = line
                .split(',')
                .next()
                .unwrap_or_default()
                .trim()
                .trim_matches('"');
            if id.is_empty() || (number == 0 && !id.chars().any(|c| c.is_ascii_digit())) {
                continue; // blank, a comment, or a header line
            }
            let id = check_id(id).map_err(|message| AccountsError::Invalid {
                path: path.to_path_buf(),
                message: format!("line {}: {message}", number + 1),
            })?;
            accounts.insert(id);
        }
        Ok(AccountList(accounts))
    }
}

/// A 12-digit account ID (shorter numbers are zero-padded, as AWS shows them).
pub fn check_id(id: &str) -> Result<String, String> {
    match id.parse::<u64>() {
        Ok(n) if id.len() <= 12 && id.chars().all(|c| c.is_ascii_digit()) => Ok(format!("{n:012}")),
        _ => Err(format!("`{id}` is not a 12-digit AWS account ID")),
    }
}

#[cfg(test)]
mod names_tests {
    use super::*;

    #[test]
    fn names_load_from_toml_and_csv() {
        let dir = tempfile::tempdir().unwrap();
        let toml_path = dir.path().join("accounts.toml");
        std::fs::write(
            &toml_path,
            "[accounts]\n\"609629065308\" = \"prod-payments\"\n",
        )
        .unwrap();
        let names = AccountNames::load(&toml_path).unwrap();
        assert_eq!(names.name("609629065308"), Some("prod-payments"));
        let csv_path = dir.path().join("accounts.csv");
        std::fs::write(&csv_path, "account,name\n# staging\n12345678901,staging\n").unwrap();
        let names = AccountNames::load(&csv_path).unwrap();
        assert_eq!(names.name("012345678901"), Some("staging"));
    }

    #[test]
    fn bad_account_files_name_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accounts.csv");
        std::fs::write(&path, "609629065308,prod\nnot-a-number,dev\n").unwrap();
        let error = AccountNames::load(&path).unwrap_err().to_string();
        assert!(
            error.contains("line 2") && error.contains("not-a-number"),
            "{error}"
        );
    }
}
