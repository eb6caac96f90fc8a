# install() rules and the Debian package (CPack), included by the top-level
# CMakeLists.txt. `make install PREFIX=... DESTDIR=...` and `make package`
# in the Makefile drive them.
#
# The manual pages and the shell completions are generated at build time
# by the built binary itself (`hubform help --man-dir`, `hubform completion
# SHELL`), from the same option tables that parse the command line.
include(GNUInstallDirs)

set(HF_GEN_DIR ${CMAKE_BINARY_DIR}/generated)
set(HF_MAN_STAMP ${HF_GEN_DIR}/man/hubform.1)
add_custom_command(OUTPUT ${HF_MAN_STAMP}
	COMMAND ${CMAKE_COMMAND} -E rm -rf ${HF_GEN_DIR}/man
	COMMAND ${CMAKE_COMMAND} -E make_directory ${HF_GEN_DIR}/man
	COMMAND $<TARGET_FILE:hubform> help --man-dir ${HF_GEN_DIR}/man
	DEPENDS hubform
	COMMENT "Generating the manual pages"
	VERBATIM)
set(HF_COMPLETIONS
	${HF_GEN_DIR}/completion/hubform
	${HF_GEN_DIR}/completion/_hubform
	${HF_GEN_DIR}/completion/hubform.fish)
add_custom_command(OUTPUT ${HF_COMPLETIONS}
	COMMAND ${CMAKE_COMMAND} -E make_directory ${HF_GEN_DIR}/completion
	COMMAND $<TARGET_FILE:hubform> completion bash > ${HF_GEN_DIR}/completion/hubform
	COMMAND $<TARGET_FILE:hubform> completion zsh > ${HF_GEN_DIR}/completion/_hubform
	COMMAND $<TARGET_FILE:hubform> completion fish > ${HF_GEN_DIR}/completion/hubform.fish
	DEPENDS hubform
	COMMENT "Generating the shell completions"
	VERBATIM)
add_custom_target(hf_docs ALL DEPENDS ${HF_MAN_STAMP} ${HF_COMPLETIONS})

# Where each shell looks for completions. zsh: Debian's zsh searches
# vendor-completions for what is under /usr and site-functions under
# /usr/local, so the choice is made at install time, from the prefix then
# in use (`make install PREFIX=`, or /usr for the package), unless
# HF_ZSH_COMPLETION_DIR is set.
set(HF_BASH_COMPLETION_DIR ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
	CACHE STRING "bash completion directory, relative to the prefix")
set(HF_ZSH_COMPLETION_DIR ""
	CACHE STRING "zsh completion directory, relative to the prefix (empty: by prefix)")
set(HF_FISH_COMPLETION_DIR ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d
	CACHE STRING "fish completion directory, relative to the prefix")

install(TARGETS hubform RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${HF_GEN_DIR}/man/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
	FILES_MATCHING PATTERN "*.1")
install(FILES ${HF_GEN_DIR}/completion/hubform DESTINATION ${HF_BASH_COMPLETION_DIR})
install(CODE "
	set(_hf_zsh \"${HF_ZSH_COMPLETION_DIR}\")
	if(NOT _hf_zsh AND CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
		set(_hf_zsh ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
	elseif(NOT _hf_zsh)
		set(_hf_zsh ${CMAKE_INSTALL_DATADIR}/zsh/site-functions)
	endif()
	file(INSTALL DESTINATION \"\${CMAKE_INSTALL_PREFIX}/\${_hf_zsh}\"
		TYPE FILE FILES \"${HF_GEN_DIR}/completion/_hubform\")")
install(FILES ${HF_GEN_DIR}/completion/hubform.fish DESTINATION ${HF_FISH_COMPLETION_DIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/schemas/
	DESTINATION ${CMAKE_INSTALL_DATADIR}/hubform/schemas)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
if(EXISTS ${CMAKE_SOURCE_DIR}/docs)
	install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR})
endif()
if(EXISTS ${CMAKE_SOURCE_DIR}/examples/ci)
	install(DIRECTORY ${CMAKE_SOURCE_DIR}/examples/ci
		DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples
		USE_SOURCE_PERMISSIONS)
endif()

# ---- the Debian package: `make package` -> hubform_<ver>_<arch>.deb ----
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME hubform)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "hubform maintainers <hubform@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "declarative plan/apply tool for Infrahub")
set(CPACK_PACKAGE_DESCRIPTION
	"hubform reads object files, computes what would change in Infrahub,\n\
stores the plan, and applies exactly a reviewed plan inside a branch.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_STRIP_FILES ON)
# Depends: the Debian packages of the shared libraries the binary links,
# worked out by dpkg-shlibdeps when it is there (with versions), else the
# list for Debian 12 (checked with `dpkg -S` on each linked .so: libcurl.so.4
# libcurl4, libyaml-0.so.2 libyaml-0-2, libjansson.so.4 libjansson4,
# libsqlite3.so.0 libsqlite3-0, libmicrohttpd.so.12 libmicrohttpd12,
# libcrypto.so.3 libssl3).
# (CPackDeb needs file(1) as well to run dpkg-shlibdeps.)
find_program(HF_DPKG_SHLIBDEPS dpkg-shlibdeps)
find_program(HF_FILE_PROGRAM file)
if(HF_DPKG_SHLIBDEPS AND HF_FILE_PROGRAM)
	set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
	set(CPACK_DEBIAN_PACKAGE_DEPENDS
		"libc6, libcurl4, libyaml-0-2, libjansson4, libsqlite3-0, libmicrohttpd12, libssl3")
endif()
include(CPack)
