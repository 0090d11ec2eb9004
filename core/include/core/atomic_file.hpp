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

// Refuses, before anything is written, a file of about `bytes` that cannot fit where it goes: the
// free space of its folder's file system or the process's file-size limit (RLIMIT_FSIZE), whichever
// is less. A FileError names the file, the need and what is available ("disk full?").
void require_space(const std::filesystem::path& file, double bytes);

// Writes `text` to "<path><suffix>", checks every write, then publish()es it over `path`.
void write_text_atomically(const std::filesystem::path& path, const std::string& text,
                           const std::string& suffix = ".tmp");

}  // namespace bmru::core
