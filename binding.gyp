# node-gyp-build's fallback path (`node-gyp rebuild`). It does not compile anything itself: it
# runs the same CMake build as `npm run build:native`, so build flags live in one place
# (scripts/build-flags.mjs). The result lands in build/Release/tingwu_whisper.node.
{
  "targets": [
    {
      "target_name": "tingwu_whisper",
      "type": "none",
      "actions": [
        {
          "action_name": "cmake_js_build",
          "inputs": ["<(module_root_dir)/CMakeLists.txt"],
          "outputs": ["<(module_root_dir)/build/Release/tingwu_whisper.node"],
          "action": ["node", "<(module_root_dir)/scripts/build-native.mjs", "--variant", "cpu"]
        }
      ]
    }
  ]
}
