#pragma once
namespace bmru::experiments {
inline constexpr const char* kToolVersion = BMRU_VERSION;
}
