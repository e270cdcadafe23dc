//! Container images saved as tarballs (`docker save`, or an OCI image layout in a tar): which
//! entry of the tarball is which layer, with the layer's digest and the command that made it,
//! and which files a later layer deletes.
//!
//! An image tarball is an archive like any other and is scanned as one; this module only adds
//! what makes a finding in a layer actionable: the layer, and whether the file is still in the
//! final image. A key a later layer deletes is still shipped to everyone who pulls the image,
//! in the layer below: it is in the image's history, like a key only in git history.

use std::collections::HashMap;
use std::io::{self, Read, Seek};
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// What the image says of one of its layers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Layer {
    /// 1-based position, bottom layer first.
    pub index: usize,
    /// `sha256:…`: the layer blob's digest (an OCI layout) or its content's (`docker save`).
    pub digest: String,
    /// The image config's history command that made the layer (`COPY . .`), when recorded.
    pub created_by: Option<String>,
}

/// The layers of an image tarball, by the path of each layer's entry in it.
#[derive(Debug, Default)]
pub struct Image {
    layers: HashMap<String, Arc<Layer>>,
}

/// JSON documents of a tarball larger than this are not image metadata.
const MAX_METADATA: u64 = 4 << 20;

impl Image {
    /// Reads the image metadata of the tar at `path`, if it is an image tarball: one pass over
    /// the tar's headers that reads only its small JSON documents. None for any other file.
    pub fn probe(path: &Path) -> Option<Image> {
        Image::read(std::fs::File::open(path).ok()?)
    }

    /// [`Image::probe`] of a tarball already open, from its start.
    pub fn read(mut file: impl Read + Seek) -> Option<Image> {
        let mut head = [0u8; 512];
        file.read_exact(&mut head).ok()?;
        if &head[257..262] != b"ustar" {
            return None;
        }
        file.seek(io::SeekFrom::Start(0)).ok()?;
        let mut documents: HashMap<String, Vec<u8>> = HashMap::new();
        // Entries are sought over, not read: a tarball that is no image costs its headers.
        let mut archive = tar::Archive::new(file);
        for entry in archive.entries_with_seek().ok()? {
            let mut entry = entry.ok()?;
            let name = normal(&String::from_utf8_lossy(&entry.path_bytes()));
            let small = entry.header().size().ok()? <= MAX_METADATA;
            let metadata = name == "manifest.json"
                || name == "index.json"
                || name.ends_with(".json")
                || name.starts_with("blobs/");
            if small && metadata {
                let mut bytes = Vec::new();
                entry.read_to_end(&mut bytes).ok()?;
                if bytes.first() == Some(&b'{') || bytes.first() == Some(&b'[') {
                    documents.insert(name, bytes);
                }
            }
        }
        Image::from_documents(&documents)
    }

    /// The image the metadata documents describe (`manifest.json` first, as `docker load`
    /// reads it, else an OCI `index.json`).
    fn from_documents(documents: &HashMap<String, Vec<u8>>) -> Option<Image> {
        let json = |name: &str| -> Option<serde_json::Value> {
            serde_json::from_slice(documents.get(&normal(name))?).ok()
        };
        let blob = |digest: &str| {
            digest
                .strip_prefix("sha256:")
                .map(|hex| format!("blobs/sha256/{hex}"))
        };
        let (config, layer_paths, digests): (Option<serde_json::Value>, Vec<String>, Vec<String>) =
            if let Some(manifest) = json("manifest.json") {
                let first = manifest.as_array()?.first()?;
                let config = first["Config"].as_str().and_then(json);
                let paths: Vec<String> = first["Layers"]
                    .as_array()?
                    .iter()
                    .filter_map(|l| l.as_str().map(normal))
                    .collect();
                let diff_ids: Vec<String> = config
                    .as_ref()
                    .and_then(|c| c["rootfs"]["diff_ids"].as_array().cloned())
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|d| d.as_str().map(str::to_string))
                    .collect();
                let digests = paths
                    .iter()
                    .enumerate()
                    .map(|(i, path)| match path.strip_prefix("blobs/sha256/") {
                        Some(hex) => format!("sha256:{hex}"),
                        None => diff_ids.get(i).cloned().unwrap_or_default(),
                    })
                    .collect();
                (config, paths, digests)
            } else {
                let index = json("index.json")?;
                let manifest_digest = index["manifests"].as_array()?.first()?["digest"].as_str()?;
                let manifest = json(&blob(manifest_digest)?)?;
                let config = manifest["config"]["digest"]
                    .as_str()
                    .and_then(blob)
                    .and_then(|p| json(&p));
                let digests: Vec<String> = manifest["layers"]
                    .as_array()?
                    .iter()
                    .filter_map(|l| l["digest"].as_str().map(str::to_string))
                    .collect();
                let paths = digests.iter().filter_map(|d| blob(d)).collect();
                (config, paths, digests)
            };
        // The history has an entry for every step; those that made no layer are marked empty.
        let commands: Vec<Option<String>> = config
            .as_ref()
            .and_then(|c| c["history"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter(|step| step["empty_layer"].as_bool() != Some(true))
            .map(|step| step["created_by"].as_str().map(str::to_string))
            .collect();
        let layers = layer_paths
            .into_iter()
            .zip(digests)
            .enumerate()
            .map(|(i, (path, digest))| {
                let layer = Layer {
                    index: i + 1,
                    digest,
                    created_by: commands.get(i).cloned().flatten(),
                };
                (path, Arc::new(layer))
            })
            .collect();
        Some(Image { layers })
    }

    /// The layer whose entry in the tarball is `entry`.
    pub fn layer(&self, entry: &str) -> Option<&Arc<Layer>> {
        self.layers.get(&normal(entry))
    }
}

/// Files the layers of one image delete from the layers below them.
#[derive(Debug, Default)]
pub struct Whiteouts {
    /// (layer index, path deleted, whether everything below the path is: an opaque directory)
    deleted: Vec<(usize, String, bool)>,
}

impl Whiteouts {
    /// Notes `entry` of layer `layer` if it is a whiteout (`dir/.wh.name` deletes `dir/name`;
    /// `dir/.wh..wh..opq` hides all that lower layers have in `dir`).
    pub fn note(&mut self, layer: usize, entry: &str) {
        let entry = normal(entry);
        let (dir, name) = match entry.rsplit_once('/') {
            Some((dir, name)) => (format!("{dir}/"), name),
            None => (String::new(), entry.as_str()),
        };
        if name == ".wh..wh..opq" {
            self.deleted.push((layer, dir, true));
        } else if let Some(deleted) = name.strip_prefix(".wh.") {
            self.deleted.push((layer, format!("{dir}{deleted}"), false));
        }
    }

    /// Whether a layer above `layer` deletes `path` (or a directory holding it).
    pub fn deletes(&self, layer: usize, path: &str) -> bool {
        let path = normal(path);
        self.deleted.iter().any(|(by, deleted, opaque)| {
            *by > layer
                && if *opaque {
                    path.starts_with(deleted.as_str())
                } else {
                    path == *deleted || path.starts_with(&format!("{deleted}/"))
                }
        })
    }
}

/// A path in a tarball without a leading `./` or `/`.
fn normal(path: &str) -> String {
    path.trim_start_matches("./")
        .trim_start_matches('/')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whiteouts_delete_files_and_directories_of_lower_layers_only() {
        let mut whiteouts = Whiteouts::default();
        whiteouts.note(2, "app/.wh..env");
        whiteouts.note(3, "./srv/.wh..wh..opq");
        assert!(whiteouts.deletes(1, "app/.env"));
        assert!(!whiteouts.deletes(2, "app/.env"));
        assert!(!whiteouts.deletes(1, "app/.env.example"));
        assert!(whiteouts.deletes(2, "srv/x/credentials"));
        assert!(!whiteouts.deletes(3, "srv/x/credentials"));
        assert!(!whiteouts.deletes(1, "srvx/credentials"));
    }

    #[test]
    fn an_oci_layout_names_layers_by_their_blobs() {
        let mut documents = HashMap::new();
        documents.insert(
            "index.json".to_string(),
            br#"{"manifests":[{"digest":"sha256:m1"}]}"#.to_vec(),
        );
        documents.insert(
            "blobs/sha256/m1".to_string(),
            br#"{"config":{"digest":"sha256:c1"},
                 "layers":[{"digest":"sha256:l1"},{"digest":"sha256:l2"}]}"#
                .to_vec(),
        );
        documents.insert(
            "blobs/sha256/c1".to_string(),
            br#"{"history":[{"created_by":"FROM scratch"},{"created_by":"COPY . ."}]}"#.to_vec(),
        );
        let image = Image::from_documents(&documents).unwrap();
        let top = image.layer("blobs/sha256/l2").unwrap();
        assert_eq!((top.index, top.digest.as_str()), (2, "sha256:l2"));
        assert_eq!(top.created_by.as_deref(), Some("COPY . ."));
        assert!(image.layer("blobs/sha256/c1").is_none());
    }

    #[test]
    fn a_docker_save_manifest_names_layers_digests_and_commands() {
        let mut documents = HashMap::new();
        documents.insert(
            "manifest.json".to_string(),
            br#"[{"Config":"cfg.json","Layers":["a/layer.tar","b/layer.tar"]}]"#.to_vec(),
        );
        documents.insert(
            "cfg.json".to_string(),
            br#"{"rootfs":{"diff_ids":["sha256:aa","sha256:bb"]},"history":[
                {"created_by":"ADD rootfs.tar /"},{"created_by":"ENV X=1","empty_layer":true},
                {"created_by":"COPY . ."}]}"#
                .to_vec(),
        );
        let image = Image::from_documents(&documents).unwrap();
        let second = image.layer("./b/layer.tar").unwrap();
        assert_eq!(second.index, 2);
        assert_eq!(second.digest, "sha256:bb");
        assert_eq!(second.created_by.as_deref(), Some("COPY . ."));
    }
}
