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

# mlp_x86_isa_sources(<flags> <files>...): compile only these files with the GCC/Clang ISA flags (a ;-list), on
# x86-64 and not with MSVC (the AVX-512 files are not built there).
function(mlp_x86_isa_sources flags)
  if(NOT MLP_IS_X86_64 OR MSVC)
    return()
  endif()
  set_source_files_properties(${ARGN} PROPERTIES COMPILE_OPTIONS "${flags}")
endfunction()

# mlp_avx512_sources(<files>...): AVX-512F (the wide and thin tiles, Adam, bias + activation).
function(mlp_avx512_sources)
  mlp_x86_isa_sources("-mavx512f;-mfma" ${ARGN})
endfunction()

# mlp_avx512bf16_sources(<files>...): AVX-512F + AVX512_BF16 (the bfloat16 GEMM).
function(mlp_avx512bf16_sources)
  mlp_x86_isa_sources("-mavx512f;-mavx512bf16;-mfma" ${ARGN})
endfunction()
