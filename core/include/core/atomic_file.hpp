#pragma once
// Files that appear whole or not at all (issue 15): content goes to a temporary file beside the
// target, is synced to the disk, and only a file that was written and closed cleanly is renamed
// over the target. On any failure the target is left byte-identical and the temporary file keeps
// what was written.
#include <filesystem>
#include <string>

namespace bmru::core {

// fsync of a closed file (FileError naming it when the disk refuses).
void sync_file(const std::filesystem::path& file);

// Syncs `part` and renames it to `out` (then syncs the folder, so the rename survives a crash).
void publish(const std::filesystem::path& part, const std::filesystem::path& out);

// Writes `text` to "<path><suffix>", checks every write, then publish()es it over `path`.
void write_text_atomically(const std::filesystem::path& path, const std::string& text,
                           const std::string& suffix = ".tmp");

}  // namespace bmru::core
