#!/usr/bin/env bash
# Regenerates Milvus/Sources/MilvusProto from the descriptors of the pymilvus
# pinned in Milvus/requirements.txt, pruned to the RPCs milvus_descriptors.py
# lists. CI never runs this: the output is committed.
#
#   bash Milvus/scripts/generate-proto.sh
#
# Needs protoc (Debian's protobuf-compiler, `apt-get install protobuf-compiler`)
# and builds the two Swift plugins from the package mirror's swift-protobuf and
# grpc-swift-protobuf (the versions Milvus/Package.swift resolves) in
# .build-protoc-plugins (a first release build takes ~10 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="/opt/swift/usr/bin:$PATH"

command -v protoc >/dev/null || { echo "generate-proto: protoc missing; apt-get install protobuf-compiler" >&2; exit 1; }
venv=$(bash scripts/milvus-env.sh)

plugins=.build-protoc-plugins
mkdir -p "$plugins/Dummy"
: >"$plugins/Dummy/Dummy.swift"
cat >"$plugins/Package.swift" <<'SWIFT'
// swift-tools-version: 6.1
// Builds the protoc plugins for Milvus/scripts/generate-proto.sh (not committed).
import PackageDescription
let package = Package(
    name: "protoc-plugins",
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", exact: "2.4.1"),
    ],
    targets: [.target(name: "Dummy", path: "Dummy")]
)
SWIFT
swift build -c release --package-path "$plugins" --product protoc-gen-swift
swift build -c release --package-path "$plugins" --product protoc-gen-grpc-swift-2
bin=$(swift build -c release --package-path "$plugins" --show-bin-path)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$venv/bin/python" Milvus/scripts/milvus_descriptors.py "$work/milvus.pb"

out=Milvus/Sources/MilvusProto
rm -f "$out"/*.pb.swift "$out"/*.grpc.swift
protoc --descriptor_set_in="$work/milvus.pb" \
    --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
    --plugin=protoc-gen-grpc-swift="$bin/protoc-gen-grpc-swift-2" \
    --swift_out="$out" --swift_opt=Visibility=Public \
    --grpc-swift_out="$out" --grpc-swift_opt=Visibility=Public,Server=false,Client=true \
    common.proto schema.proto msg.proto milvus.proto
echo "generate-proto: wrote $(ls "$out" | tr '\n' ' ')"
