#!/usr/bin/env bash
# Builds the container image without a Docker engine, with buildah (vfs storage, chroot isolation),
# as CI does; the release workflow runs the same commands.
#   bash scripts/image.sh base     (npm run image:base)  a Debian trixie root with the CUDA 12.4
#                                  runtime libraries (non-free), made by mmdebstrap, imported as
#                                  localhost/tingwu-base:trixie
#   bash scripts/image.sh build [buildah bud args…]   (npm run image:build)  npm pack (with the
#                                  prebuilds/ present), then Dockerfile.cuda124 on TINGWU_BASE_IMAGE
#                                  (default localhost/tingwu-base:trixie); writes
#                                  build/image/tingwu-whisper-cuda12.4.oci.tar and, for `docker load`
#                                  (with the HEALTHCHECK), build/image/tingwu-whisper-cuda12.4.docker.tar
#                                  (TINGWU_BASE_TAR=<root.tar> imports a root made earlier instead)
#   bash scripts/image.sh clean    removes the buildah storage (never fails)
# Storage: TINGWU_BUILDAH_ROOT (default /var/tmp/tingwu-whisper-buildah), outside the checkout. The vfs
# driver keeps plain directories (no overlay mounts), so removing it can't hit a busy mount.
set -euo pipefail
cd "$(dirname "$0")/.."
STORE="${TINGWU_BUILDAH_ROOT:-/var/tmp/tingwu-whisper-buildah}"
S=(--root "$STORE/storage" --runroot "$STORE/run" --storage-driver vfs)
BASE_TAG="localhost/tingwu-base:trixie"
IMAGE_TAG="localhost/tingwu-whisper:cuda12.4"
OUT="build/image"
# Debian trixie: the CUDA 12.4 runtime and cuBLAS (non-free), ffmpeg, CA certificates.
BASE_PACKAGES="ca-certificates,ffmpeg,libcudart12,libcublas12,libcublaslt12"
MIRROR="${TINGWU_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${TINGWU_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"

say() { echo "image: $*" >&2; }

clean_containers() {
  # Working containers of an interrupted run; with vfs, unmounting is bookkeeping only.
  buildah "${S[@]}" umount --all >/dev/null 2>&1 || true
  buildah "${S[@]}" rm --all >/dev/null 2>&1 || true
}

base() {
  mkdir -p "$OUT"
  clean_containers
  local tar="$OUT/base-trixie.tar"
  if [ -n "${TINGWU_BASE_TAR:-}" ]; then
    # A root tarball made earlier by the same mmdebstrap command (saves its ~5-10 min).
    say "base root from $TINGWU_BASE_TAR"
    tar="$TINGWU_BASE_TAR"
  else
  say "mmdebstrap trixie (+ $BASE_PACKAGES)"
  rm -f "$tar"
  mmdebstrap --variant=minbase --components=main,non-free --include="$BASE_PACKAGES" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
    trixie "$tar" \
    "deb $MIRROR trixie main non-free" "deb $MIRROR trixie-updates main non-free" "deb $SECURITY_MIRROR trixie-security main non-free"
  fi
  local ctr mnt
  ctr=$(buildah "${S[@]}" from scratch)
  mnt=$(buildah "${S[@]}" mount "$ctr")
  tar -xf "$tar" -C "$mnt" --numeric-owner --exclude='./dev/*'
  buildah "${S[@]}" umount "$ctr" >/dev/null
  buildah "${S[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd /bin/bash \
    --label org.opencontainers.image.description="Debian trixie with the CUDA 12.4 runtime libraries (tingwu-whisper CI base)" "$ctr"
  buildah "${S[@]}" commit --rm --quiet "$ctr" "$BASE_TAG" >/dev/null
  [ -n "${TINGWU_BASE_TAR:-}" ] || rm -f "$tar"
  say "$BASE_TAG: $(buildah "${S[@]}" images --format '{{.Size}}' "$BASE_TAG")"
}

build() {
  mkdir -p "$OUT"
  clean_containers
  # The tarball the Dockerfile installs: dist/ and whatever prebuilds/ holds (cpu, cuda12).
  rm -f tingwu-whisper-*.tgz
  npm pack --silent >/dev/null
  say "$(ls tingwu-whisper-*.tgz): $(tar -tzf tingwu-whisper-*.tgz | grep -E '^package/prebuilds/.*\.node$' | sed 's|^package/||' | tr '\n' ' ')"
  # TINGWU_BASE_IMAGE=default keeps the Dockerfile's (NVIDIA's CUDA runtime, pinned by digest).
  local base="${TINGWU_BASE_IMAGE:-$BASE_TAG}" base_arg=()
  [ "$base" = "default" ] || base_arg=(--build-arg "BASE_IMAGE=$base")
  # npm inside the build trusts what npm here trusts: a TLS-intercepting proxy's CA (as on our
  # machines) reaches the RUN steps as a build secret, never a layer.
  local ca="${NODE_EXTRA_CA_CERTS:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}" ca_arg=()
  [ -s "$ca" ] && ca_arg=(--secret "id=ca,src=$ca")
  say "buildah bud -f Dockerfile.cuda124 (BASE_IMAGE=$base)"
  # Docker's image format: OCI's has no HEALTHCHECK. The OCI archive is converted from it.
  buildah "${S[@]}" bud --isolation chroot --format docker --layers=false \
    "${base_arg[@]}" "${ca_arg[@]}" -f Dockerfile.cuda124 -t "$IMAGE_TAG" "$@" .
  local oci="$OUT/tingwu-whisper-cuda12.4.oci.tar" docker="$OUT/tingwu-whisper-cuda12.4.docker.tar"
  rm -f "$oci" "$docker"
  buildah "${S[@]}" push --quiet "$IMAGE_TAG" "oci-archive:$oci:tingwu-whisper:cuda12.4"
  # From the storage, not from the OCI archive: Docker's config keeps the HEALTHCHECK, OCI's has none.
  buildah "${S[@]}" push --quiet "$IMAGE_TAG" "docker-archive:$docker:tingwu-whisper:cuda12.4"
  clean_containers
  say "wrote $oci ($(du -h "$oci" | cut -f1)) and $docker ($(du -h "$docker" | cut -f1))"
}

clean() {
  clean_containers
  buildah "${S[@]}" rmi --all --force >/dev/null 2>&1 || true
  rm -rf "$STORE" 2>/dev/null || say "could not remove all of $STORE (left in place)"
  return 0
}

case "${1:-}" in
  base) base ;;
  build) shift; build "$@" ;;
  clean) clean ;;
  *) echo "usage: bash scripts/image.sh base | build [buildah bud args…] | clean" >&2; exit 2 ;;
esac
