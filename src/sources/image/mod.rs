//! Container images as a source: `docker save` tarballs (classic and OCI-style), OCI image
//! layouts (directories or tars), multi-image archives and indexes of several platforms.
//!
//! * [`store`] gives random access to an archive's files without unpacking it;
//! * [`manifest`] finds the images, their configs and layers;
//! * [`layer`] streams a layer (gzip, zstd or plain tar), hands over its files and records its
//!   whiteouts, from which [`layer::visibility`] tells whether a file is still visible in the
//!   final image or was deleted (but still shipped) by a later layer.

pub mod layer;
pub mod manifest;
pub mod registry;
pub mod store;

use serde::Serialize;

pub use layer::Visibility;

/// Where in an image a blob was seen.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
pub struct ImageOrigin {
    /// The image: its tag or reference name, else the archive and manifest digest.
    pub image: String,
    /// `os/arch`, when the archive says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// The image manifest's digest, when the archive has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<String>,
    /// The layer, or `None` for the image config.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<LayerPosition>,
    /// The file's path in the layer, or the config field (`config.Env[2]`).
    pub path: String,
    /// Whether the file is still visible in the final image.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Visibility>,
}

/// A layer's place in an image.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
pub struct LayerPosition {
    /// 0-based, bottom layer first.
    pub index: usize,
    /// `sha256:...` (or a classic `docker save` layer's path).
    pub digest: String,
    /// The build step that created the layer (`history[].created_by` in the config).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

impl ImageOrigin {
    /// How the origin is shown to people.
    pub fn display(&self) -> String {
        self.display_with_members("")
    }

    /// How a member of an archive at this origin is shown: `chain` (`!/a.jar!/b.properties`)
    /// follows the path, before the layer's status.
    pub fn display_with_members(&self, chain: &str) -> String {
        match &self.layer {
            None => format!("{} {}{chain}", self.image, self.path),
            Some(layer) => {
                let status = match self.visibility {
                    Some(Visibility::Deleted { by_layer: by }) => {
                        format!(
                            " (deleted in layer {by}, still shipped in layer {})",
                            layer.index
                        )
                    }
                    Some(Visibility::Replaced { by_layer: by }) => {
                        format!(
                            " (replaced in layer {by}, still shipped in layer {})",
                            layer.index
                        )
                    }
                    _ => String::new(),
                };
                format!(
                    "{} layer {}: /{}{chain}{status}",
                    self.image, layer.index, self.path
                )
            }
        }
    }
}
