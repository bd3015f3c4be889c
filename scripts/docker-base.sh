#!/usr/bin/env bash
# A Python base image made from Debian's packages, for machines that reach Debian's mirror but
# no image registry: bookworm's python3 and venv, debootstrapped and imported as
# local/python-base:bookworm (or the tag given as $1). Kept between runs: an image that
# `docker image inspect` finds is reused as it is.
set -euo pipefail
tag="${1:-local/python-base:bookworm}"
if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "Base image $tag is there; reused."
  exit 0
fi
mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
  bookworm "$rootfs" "${mirror:-http://deb.debian.org/debian}" >/dev/null
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" -c . | docker import - "$tag" >/dev/null
echo "Base image $tag imported from Debian bookworm."
