# bmru_embed_text(<data file> <header name> <namespace> <constant>)
# Writes ${CMAKE_CURRENT_BINARY_DIR}/generated/<header name> holding the file's text as
# `inline constexpr const char* <constant>` (a raw string literal), and re-runs CMake when the file
# changes. Data files (model cards, scripts) stay data instead of C++ string soup.
function(bmru_embed_text data header namespace constant)
  file(READ ${CMAKE_CURRENT_SOURCE_DIR}/${data} BMRU_EMBED_TEXT)
  set(BMRU_EMBED_NAMESPACE ${namespace})
  set(BMRU_EMBED_CONSTANT ${constant})
  set(BMRU_EMBED_SOURCE ${data})
  configure_file(${PROJECT_SOURCE_DIR}/cmake/embedded_text.hpp.in
                 ${CMAKE_CURRENT_BINARY_DIR}/generated/${header} @ONLY)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${data})
endfunction()
