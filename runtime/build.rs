//! Embeds the gallery (`gallery/`) in every build, debug ones too, so that tests, `runtime
//! serve` and the Lambda artifact serve the same bytes.

fn main() {
    memory_serve::load_directory_with_embed("gallery", true);
}
