#pragma once
// The exception hierarchy of bmru-cosim. Library code throws; only main() maps exceptions to exit
// codes. Messages are sentences that name the thing (file, dataset, field, index) and say what to do.
#include <stdexcept>
#include <string>

namespace bmru {

// Root of every error this project raises on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The user gave something unusable: a network with a bad field, an option out of range, a bad shape.
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

}  // namespace bmru
