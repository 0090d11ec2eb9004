# bmru_export_library(<folder>)
# Makes the library bmru_<folder> of the current folder usable as bmru::<folder> inside this build
# and, once installed, through find_package(bmru-cosim): an ALIAS target, its export name, and
# install rules for the archive and the folder's public headers (include/).
function(bmru_export_library folder)
  add_library(bmru::${folder} ALIAS bmru_${folder})
  set_target_properties(bmru_${folder} PROPERTIES EXPORT_NAME ${folder})
  install(TARGETS bmru_${folder} EXPORT bmru-cosim-targets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(DIRECTORY include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endfunction()
