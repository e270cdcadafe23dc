//! Damaged pack files: finding them, and reading what they still hold.
//!
//! git will not use a pack whose trailer does not match its index (a pack cut short by a full
//! disk or an interrupted copy, or overwritten): every object in it is then missing, although
//! most of the pack is usually intact. Nor does git see a pack that has lost its index. An audit
//! must not lose all of those objects for the sake of a damaged tail, so each such pack is
//! replayed through `git unpack-objects -r`, which reads a pack front to back and keeps every
//! object it can inflate. The objects go to a temporary object directory, never into the
//! repository, and that directory is lent to git and libgit2 as an alternate for the rest of
//! the audit. What the pack held past the damage stays unreadable and is named in the report.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use super::{GitError, Repo};

/// A pack file git cannot use, and what could be read from it.
pub struct SalvagedPack {
    /// The `.pack` file (or, when that is gone, its `.idx`).
    pub pack: PathBuf,
    /// What is wrong with it.
    pub problem: String,
    /// How many objects its index lists (none when the index is gone).
    pub listed: Option<u32>,
    /// How many objects were read out of it.
    pub recovered: usize,
    /// The object directory holding them; removed when this is dropped.
    objects: tempfile::TempDir,
}

impl SalvagedPack {
    /// The temporary object directory holding the recovered objects.
    pub fn objects_dir(&self) -> &Path {
        self.objects.path()
    }
}

/// Finds the repository's damaged packs and reads what each still holds.
pub fn salvage_damaged_packs(repo: &Repo) -> Result<Vec<SalvagedPack>, GitError> {
    let mut salvaged = Vec::new();
    for damaged in damaged_packs(&repo.objects_dir(), hash_len(repo)) {
        let objects = tempfile::Builder::new()
            .prefix("keyhound-salvage-")
            .tempdir()?;
        let recovered = if damaged.pack.extension().is_some_and(|e| e == "pack") {
            unpack(repo, &damaged.pack, objects.path())?
        } else {
            0
        };
        salvaged.push(SalvagedPack {
            pack: damaged.pack,
            problem: damaged.problem,
            listed: damaged.listed,
            recovered,
            objects,
        });
    }
    Ok(salvaged)
}

/// The length of the repository's object ids in bytes: 20 (SHA-1) or 32 (SHA-256).
fn hash_len(repo: &Repo) -> usize {
    let sha256 = repo
        .repo
        .config()
        .and_then(|c| c.get_string("extensions.objectformat"))
        .is_ok_and(|format| format.eq_ignore_ascii_case("sha256"));
    if sha256 {
        32
    } else {
        20
    }
}

struct DamagedPack {
    pack: PathBuf,
    problem: String,
    listed: Option<u32>,
}

/// The packs in `objects/pack` that git would refuse or not see, in name order: the checks git
/// makes when it opens a pack (size, header, object count and trailer against the index).
fn damaged_packs(objects: &Path, hash_len: usize) -> Vec<DamagedPack> {
    let Ok(entries) = fs::read_dir(objects.join("pack")) else {
        return Vec::new();
    };
    let mut names: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            name.starts_with("pack-") && (name.ends_with(".pack") || name.ends_with(".idx"))
        })
        .collect();
    names.sort();
    let mut damaged = Vec::new();
    for path in &names {
        let is_pack = path.extension().is_some_and(|e| e == "pack");
        let idx = path.with_extension("idx");
        let pack = path.with_extension("pack");
        if is_pack && !idx.exists() {
            damaged.push(DamagedPack {
                pack,
                problem: "it has no index, so git does not see it".into(),
                listed: None,
            });
        } else if !is_pack {
            let index = read_index_facts(&idx, hash_len);
            let listed = index.as_ref().ok().map(|i| i.objects);
            let problem = match index {
                Err(problem) => Some(format!("its index {}: {problem}", idx.display())),
                Ok(_) if !pack.exists() => {
                    damaged.push(DamagedPack {
                        pack: idx,
                        problem: "its pack file is missing".into(),
                        listed,
                    });
                    continue;
                }
                Ok(index) => check_pack(&pack, &index, hash_len).err(),
            };
            if let Some(problem) = problem {
                damaged.push(DamagedPack {
                    pack,
                    problem,
                    listed,
                });
            }
        }
    }
    damaged
}

/// What a pack index says of its pack.
struct IndexFacts {
    objects: u32,
    /// The checksum the pack's trailer must carry.
    pack_checksum: Vec<u8>,
}

/// Reads a version 1 or 2 pack index's object count and pack checksum.
fn read_index_facts(idx: &Path, hash_len: usize) -> Result<IndexFacts, String> {
    const V2_MAGIC: &[u8] = b"\xfftOc";
    let mut file = File::open(idx).map_err(|e| e.to_string())?;
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    let mut head = [0u8; 8 + 256 * 4];
    let fanout_at = match file.read_exact(&mut head) {
        Ok(()) if head[..4] == *V2_MAGIC => 8,
        Ok(()) => 0,
        Err(_) => return Err("too short to be a pack index".into()),
    };
    let last = fanout_at + 255 * 4;
    let objects = u32::from_be_bytes(head[last..last + 4].try_into().expect("4 bytes"));
    if len < (fanout_at + 256 * 4 + 2 * hash_len) as u64 {
        return Err("too short to be a pack index".into());
    }
    let mut pack_checksum = vec![0u8; hash_len];
    file.seek(SeekFrom::Start(len - 2 * hash_len as u64))
        .and_then(|_| file.read_exact(&mut pack_checksum))
        .map_err(|e| e.to_string())?;
    Ok(IndexFacts {
        objects,
        pack_checksum,
    })
}

/// Checks a pack against its index as git does when it opens the pack.
fn check_pack(pack: &Path, index: &IndexFacts, hash_len: usize) -> Result<(), String> {
    let mut file = File::open(pack).map_err(|e| format!("cannot open it: {e}"))?;
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    let mut header = [0u8; 12];
    if len < (12 + hash_len) as u64 || file.read_exact(&mut header).is_err() {
        return Err(format!("it is too short to be a pack ({len} bytes)"));
    }
    let version = u32::from_be_bytes(header[4..8].try_into().expect("4 bytes"));
    if &header[..4] != b"PACK" || !(2..=3).contains(&version) {
        return Err("it does not start with a pack header".into());
    }
    let objects = u32::from_be_bytes(header[8..12].try_into().expect("4 bytes"));
    if objects != index.objects {
        return Err(format!(
            "it holds {objects} objects but its index lists {}",
            index.objects
        ));
    }
    let mut trailer = vec![0u8; hash_len];
    file.seek(SeekFrom::Start(len - hash_len as u64))
        .and_then(|_| file.read_exact(&mut trailer))
        .map_err(|e| e.to_string())?;
    if trailer != index.pack_checksum {
        return Err("it does not match its index (cut short or overwritten)".into());
    }
    Ok(())
}

/// Replays `pack` through `git unpack-objects -r` into the object directory `into`; returns how
/// many objects it recovered. git stops with an error where the damage starts, which is expected.
fn unpack(repo: &Repo, pack: &Path, into: &Path) -> Result<usize, GitError> {
    let input = File::open(pack)?;
    let output = repo
        .git()
        .args(["unpack-objects", "-r", "-q"])
        .env("GIT_OBJECT_DIRECTORY", into)
        .env_remove("GIT_ALTERNATE_OBJECT_DIRECTORIES")
        .stdin(input)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|source| GitError::Spawn {
            args: "unpack-objects -r".into(),
            source,
        })?;
    tracing::debug!(
        "git unpack-objects on {}: {}",
        pack.display(),
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(count_loose_objects(into))
}

/// Loose objects in an object directory: files in its two-hex-digit fan-out folders.
fn count_loose_objects(objects: &Path) -> usize {
    let Ok(entries) = fs::read_dir(objects) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().len() == 2)
        .filter_map(|e| fs::read_dir(e.path()).ok())
        .map(|files| files.count())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal version 2 index for `objects` objects whose pack has trailer `checksum`.
    fn index_v2(objects: u32, checksum: &[u8; 20]) -> Vec<u8> {
        let mut idx = b"\xfftOc\0\0\0\x02".to_vec();
        for _ in 0..256 {
            idx.extend_from_slice(&objects.to_be_bytes());
        }
        // Names, CRCs and offsets would follow; the checks read only the ends.
        idx.extend_from_slice(&vec![0; objects as usize * 28]);
        idx.extend_from_slice(checksum);
        idx.extend_from_slice(&[7; 20]);
        idx
    }

    fn pack(objects: u32, body: &[u8], checksum: &[u8; 20]) -> Vec<u8> {
        let mut pack = b"PACK\0\0\0\x02".to_vec();
        pack.extend_from_slice(&objects.to_be_bytes());
        pack.extend_from_slice(body);
        pack.extend_from_slice(checksum);
        pack
    }

    fn problems(dir: &Path) -> Vec<(String, String)> {
        damaged_packs(dir, 20)
            .into_iter()
            .map(|d| {
                let name = d.pack.file_name().unwrap().to_string_lossy().into_owned();
                (name, d.problem)
            })
            .collect()
    }

    #[test]
    fn packs_are_checked_as_git_opens_them() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("pack");
        fs::create_dir(&dir).unwrap();
        let sum = [3u8; 20];
        let write = |name: &str, bytes: &[u8]| fs::write(dir.join(name), bytes).unwrap();
        write("pack-a.idx", &index_v2(2, &sum));
        write("pack-a.pack", &pack(2, b"objects", &sum));
        write("pack-b.idx", &index_v2(2, &sum));
        let mut cut = pack(2, b"objects", &sum);
        cut.truncate(cut.len() - 5);
        write("pack-b.pack", &cut);
        write("pack-c.idx", &index_v2(3, &sum));
        write("pack-c.pack", &pack(2, b"objects", &sum));
        write("pack-d.pack", &pack(1, b"x", &sum));
        write("pack-e.idx", &index_v2(1, &sum));
        write("pack-f.idx", b"short");
        write("pack-f.pack", &pack(1, b"x", &sum));
        write("pack-g.idx", &index_v2(1, &sum));
        write("pack-g.pack", b"PACK");
        write("pack-h.idx", &index_v2(1, &sum));
        write(
            "pack-h.pack",
            &pack(1, b"x", &sum).iter().map(|b| !b).collect::<Vec<_>>(),
        );
        write("tmp_pack_x", b"in progress");

        let found = problems(tmp.path());
        let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "pack-b.pack",
                "pack-c.pack",
                "pack-d.pack",
                "pack-e.idx",
                "pack-f.pack",
                "pack-g.pack",
                "pack-h.pack"
            ]
        );
        assert!(found[0].1.contains("does not match its index"), "{found:?}");
        assert!(found[1].1.contains("holds 2 objects but its index lists 3"));
        assert!(found[2].1.contains("no index"));
        assert!(found[3].1.contains("pack file is missing"));
        assert!(found[4].1.contains("too short to be a pack index"));
        assert!(found[5].1.contains("too short to be a pack"));
        assert!(found[6].1.contains("pack header"));
    }

    #[test]
    fn a_repository_without_packs_has_none_damaged() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(problems(tmp.path()).is_empty());
        fs::create_dir(tmp.path().join("pack")).unwrap();
        assert!(problems(tmp.path()).is_empty());
    }
}
