# mlp_avx2_sources(<files>...): compile only these files with AVX2 + FMA. The rest of the library
# stays baseline x86-64 (or ARM64), so it loads on any CPU and dispatches at run time.
set(MLP_IS_X86_64 OFF)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(MLP_IS_X86_64 ON)
endif()

function(mlp_avx2_sources)
  if(NOT MLP_IS_X86_64)
    return()
  endif()
  if(MSVC)
    set_source_files_properties(${ARGN} PROPERTIES COMPILE_OPTIONS "/arch:AVX2")
  else()
    set_source_files_properties(${ARGN} PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma")
  endif()
endfunction()

# mlp_avx512_sources(<files>...): compile only these files with AVX-512F (GCC/Clang; the wide tile is not
# built with MSVC).
function(mlp_avx512_sources)
  if(NOT MLP_IS_X86_64 OR MSVC)
    return()
  endif()
  set_source_files_properties(${ARGN} PROPERTIES COMPILE_OPTIONS "-mavx512f;-mfma")
endfunction()

# mlp_avx512bf16_sources(<files>...): compile only these files with AVX-512F + AVX512_BF16 (the bfloat16 GEMM).
function(mlp_avx512bf16_sources)
  if(NOT MLP_IS_X86_64 OR MSVC)
    return()
  endif()
  set_source_files_properties(${ARGN} PROPERTIES COMPILE_OPTIONS "-mavx512f;-mavx512bf16;-mfma")
endfunction()
