# mlp_enable_warnings(<target>): the warning set every native target is built with.
option(MLNETMLP_WERROR "Treat compiler warnings as errors" OFF)

function(mlp_enable_warnings target)
  if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes
                                             -Wmissing-prototypes -Wvla -Wformat=2)
    if(MLNETMLP_WERROR)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  elseif(MSVC)
    target_compile_options(${target} PRIVATE /W4)
  endif()
endfunction()
