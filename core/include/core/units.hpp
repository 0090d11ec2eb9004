#pragma once
// Numbers with SPICE scale suffixes (DESIGN.md section 8), and locale-free number text.
#include <string>
#include <string_view>

namespace bmru::core {

// Parses "350p", "10m", "0.1m", "2meg", "1.5e-9", "10ms", "350pA" into base units.
// Suffixes (case-insensitive, as in SPICE): f p n u m k meg g t; "m" is milli, "meg" is mega.
// An optional unit (A, V, s, Hz) may follow. Throws InputError naming `what` on anything else.
double parse_quantity(std::string_view text, std::string_view what = "number");

// Shortest text that reads back to exactly the same double, independent of the C++ locale.
std::string format_number(double value);

// SHA-256 of `text` as 64 lower-case hex digits (OpenSSL).
std::string sha256_hex(std::string_view text);

}  // namespace bmru::core
