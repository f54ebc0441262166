#pragma once
// Exception hierarchy: configuration errors (bad files, bad specs) are kept
// apart from evaluation errors (bad calls), as users handle them differently.

#include <stdexcept>
#include <string>

namespace trignet {

/// Base of every exception trignet throws.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

/// A model file or ModelSpec is malformed or inconsistent. The message names
/// the file (when there is one), the JSON path and what was expected.
class FormatError : public Error {
 public:
  using Error::Error;
};

/// A model is valid but uses something this build cannot run
/// (a layer or option not implemented for the chosen backend or scalar type).
class UnsupportedError : public FormatError {
 public:
  using FormatError::FormatError;
};

/// A call was wrong: input count or size mismatch, batch too large, unknown
/// input name, and similar mistakes at run time.
class RunError : public Error {
 public:
  using Error::Error;
};

/// Embedded test vectors did not reproduce the framework's outputs.
class VerificationError : public Error {
 public:
  using Error::Error;
};

}  // namespace trignet
