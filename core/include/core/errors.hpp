#pragma once
// The exception hierarchy of bmru-cosim. Library code throws; only main() maps exceptions to exit
// codes. Messages are sentences that name the thing (file, dataset, field, index) and say what to
// do.
#include <stdexcept>
#include <string>
#include <vector>

namespace bmru {

// Root of every error this project raises on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The user gave something unusable: a network with a bad field, an option out of range, a bad
// shape.
class InputError : public Error {
 public:
  using Error::Error;
};

// A file could not be read or written, or its content does not have the expected form.
// `path` and `object` (dataset, attribute or JSON key; may be empty) are kept as fields.
class FileError : public Error {
 public:
  FileError(std::string path, std::string object, const std::string& what)
      : Error(compose(path, object, what)), path_(std::move(path)), object_(std::move(object)) {}

  const std::string& path() const { return path_; }
  const std::string& object() const { return object_; }

 private:
  static std::string compose(const std::string& path, const std::string& object,
                             const std::string& what) {
    std::string s = "File '" + path + "'";
    if (!object.empty()) s += ", '" + object + "'";
    return s + ": " + what;
  }
  std::string path_;
  std::string object_;
};

// The run finished and its file was written, but some of its sequences (or a sweep's runs) failed:
// the command maps this to exit code 3 after its report.
class PartialFailure : public Error {
 public:
  using Error::Error;
};

// A list of problems for a message: one per line ("\n  - ..."), the first `shown` of them and then
// how many more there are, so that a message stays readable however many problems there are.
inline std::string problem_list(const std::vector<std::string>& items, size_t shown = 20) {
  std::string t;
  const size_t n = items.size() < shown ? items.size() : shown;
  for (size_t i = 0; i < n; ++i) t += "\n  - " + items[i];
  if (items.size() > n) t += "\n  (and " + std::to_string(items.size() - n) + " more)";
  return t;
}

}  // namespace bmru
