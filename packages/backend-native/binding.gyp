{
  "variables": {
    "es_march%": "native",
    "es_static_cxx%": "0",
    "es_old_glibc%": "0"
  },
  "targets": [
    {
      "target_name": "efficientscale_native",
      "sources": [
        "src/native/addon.cc",
        "src/native/pool.cc",
        "src/native/elementwise.cc",
        "src/native/reduce.cc",
        "src/native/shape.cc",
        "src/native/matmul.cc",
        "src/native/fused.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!(node scripts/blas-config.mjs include)"
      ],
      "libraries": ["<!@(node scripts/blas-config.mjs libs)", "-lpthread"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-march=<(es_march)", "-fno-math-errno", "-fexceptions"],
      "conditions": [
        ["es_static_cxx==1", { "ldflags": ["-static-libstdc++", "-static-libgcc"] }],
        ["es_old_glibc==1", { "cflags_cc": ["-include", "<(module_root_dir)/src/native/glibc-compat.h"] }]
      ],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CPLUSPLUSFLAGS": ["-O3", "-fno-math-errno"]
      }
    }
  ]
}
