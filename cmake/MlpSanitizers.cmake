# MLNETMLP_SANITIZE=ON builds everything with AddressSanitizer (+ LeakSanitizer) and UBSan.
option(MLNETMLP_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)

if(MLNETMLP_SANITIZE)
  set(MLP_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_compile_options(${MLP_SANITIZER_FLAGS})
  add_link_options(${MLP_SANITIZER_FLAGS})
endif()
