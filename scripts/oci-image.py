#!/usr/bin/env python3
"""Assembles and unpacks Berth's OCI image archive, with no container daemon.

    oci-image.py build --ref NAME:TAG --output FILE --file DEST=SRC ...
    oci-image.py unpack ARCHIVE DIR

`build` writes one tar that is at once an OCI image layout (oci-layout,
index.json, blobs/sha256/...) and a `docker save` archive (manifest.json
naming the same blobs), the format Docker 25+ itself saves: `docker load`,
`ctr images import` and `skopeo copy oci-archive:` all take it. The image
has one layer: a minimal root (/etc/passwd, /etc/group, /tmp) and the given
files. Reproducible: every timestamp is SOURCE_DATE_EPOCH (default 0),
owners are 0:0, entries are sorted, gzip carries no name and mtime 0, JSON
is canonical — the same files give the same digest.

`unpack` checks every blob against its digest, extracts the layers in
order into DIR (refusing paths that leave it) and prints the image's run
config (Entrypoint, Cmd, Env, WorkingDir) as one JSON line.

Standard library only, so it runs on any machine with Python 3.8+.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import posixpath
import shutil
import struct
import sys
import tarfile
import time

EPOCH = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
ETC_PASSWD = b"root:x:0:0:root:/:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
ETC_GROUP = b"root:x:0:\nnogroup:x:65534:\n"


def die(msg):
    sys.exit(f"oci-image: {msg}")


def canonical_json(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tar_entry(tar, name, mode, data=None):
    """Adds a directory (data None) or a regular file with fixed metadata."""
    info = tarfile.TarInfo(name + ("/" if data is None else ""))
    info.mtime, info.uid, info.gid, info.uname, info.gname = EPOCH, 0, 0, "root", "root"
    info.mode = mode
    if data is None:
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
    else:
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def check_static(path, data):
    """Refuses an ELF with a program interpreter: it could not start in an
    image without a libc (the musl build is static; a glibc one is not)."""
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return  # not a 64-bit ELF: nothing to check
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        p_type, = struct.unpack_from("<I", data, phoff + i * phentsize)
        if p_type == 3:  # PT_INTERP
            die(f"{path} is dynamically linked; build it for a musl target")


def layer_tar(files):
    """The root filesystem as an uncompressed tar: files maps an absolute
    path in the image to (bytes, mode)."""
    entries = {"etc": None, "tmp": None}
    entries["etc/passwd"] = (ETC_PASSWD, 0o644)
    entries["etc/group"] = (ETC_GROUP, 0o644)
    for dest, content in files.items():
        rel = dest.strip("/")
        entries[rel] = content
        parent = posixpath.dirname(rel)
        while parent:
            entries.setdefault(parent, None)
            parent = posixpath.dirname(parent)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in sorted(entries):
            content = entries[name]
            if content is None:
                tar_entry(tar, name, 0o1777 if name == "tmp" else 0o755)
            else:
                tar_entry(tar, name, content[1], content[0])
    return buf.getvalue()


def gzip_bytes(data):
    buf = io.BytesIO()
    # filename "" and mtime 0: the gzip header carries neither.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=6) as gz:
        gz.write(data)
    return buf.getvalue()


def build(args):
    files = {}
    for spec in args.file:
        dest, sep, src = spec.partition("=")
        if not sep or not dest.startswith("/") or ".." in dest.split("/"):
            die(f"--file wants /ABSOLUTE/DEST=SOURCE, got {spec!r}")
        with open(src, "rb") as f:
            data = f.read()
        check_static(src, data)
        files[dest] = (data, 0o755)
    name, _, tag = args.ref.rpartition(":")
    if not name or "/" in tag:
        die(f"--ref wants NAME:TAG, got {args.ref!r}")
    layer = layer_tar(files)
    layer_gz = gzip_bytes(layer)
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(EPOCH))
    config = canonical_json({
        "architecture": "amd64",
        "os": "linux",
        "created": created,
        "config": {
            "Entrypoint": [args.entrypoint],
            "Cmd": json.loads(args.cmd_json),
            "Env": ["PATH=/usr/local/bin:/usr/bin:/bin"],
            "WorkingDir": "/",
            "Labels": {
                "org.opencontainers.image.title": "berth",
                "org.opencontainers.image.version": tag,
            },
        },
        "rootfs": {"type": "layers", "diff_ids": [sha256(layer)]},
        "history": [{"created": created, "created_by": "scripts/build-image"}],
    })
    manifest = canonical_json({
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": {"mediaType": CONFIG, "digest": sha256(config), "size": len(config)},
        "layers": [{"mediaType": LAYER, "digest": sha256(layer_gz), "size": len(layer_gz)}],
    })
    index = canonical_json({
        "schemaVersion": 2,
        "mediaType": INDEX,
        "manifests": [{
            "mediaType": MANIFEST,
            "digest": sha256(manifest),
            "size": len(manifest),
            "platform": {"architecture": "amd64", "os": "linux"},
            # The full reference in both: containerd prefers its own key,
            # skopeo and others read the OCI one.
            "annotations": {
                "org.opencontainers.image.ref.name": args.ref,
                "io.containerd.image.name": args.ref,
            },
        }],
    })
    docker_manifest = canonical_json([{
        "Config": blob(config),
        "RepoTags": [args.ref],
        "Layers": [blob(layer_gz)],
    }])
    entries = {
        "oci-layout": canonical_json({"imageLayoutVersion": "1.0.0"}),
        "index.json": index,
        "manifest.json": docker_manifest,
        blob(config): config,
        blob(manifest): manifest,
        blob(layer_gz): layer_gz,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    tmp = args.output + ".tmp"
    with tarfile.open(tmp, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for d in ("blobs", "blobs/sha256"):
            tar_entry(tar, d, 0o755)
        for name in sorted(entries):
            tar_entry(tar, name, 0o644, entries[name])
    os.replace(tmp, args.output)
    print(json.dumps({"ref": args.ref, "manifestDigest": sha256(manifest),
                      "configDigest": sha256(config), "layerDiffId": sha256(layer),
                      "layerBytes": len(layer_gz)}))


def blob(data):
    return "blobs/sha256/" + hashlib.sha256(data).hexdigest()


def read_blob(tar, descriptor):
    algo, _, hexdigest = descriptor["digest"].partition(":")
    if algo != "sha256" or len(hexdigest) != 64:
        die(f"unsupported digest {descriptor['digest']}")
    data = tar.extractfile(f"blobs/sha256/{hexdigest}").read()
    if sha256(data) != descriptor["digest"] or len(data) != descriptor["size"]:
        die(f"blob {descriptor['digest']} does not match its digest or size")
    return data


def extract_layer(layer, root):
    """Extracts one layer into root, applying whiteouts, refusing any entry
    that would land outside root (directly, through `..`, or through a
    symlink an earlier entry made)."""
    real_root = os.path.realpath(root)
    # Paths are checked here; keep the modes the image gives (/tmp 1777).
    trusted = {"filter": "fully_trusted"} if hasattr(tarfile, "data_filter") else {}
    for member in layer.getmembers():
        name = posixpath.normpath(member.name.lstrip("/"))
        if name == ".":
            continue
        if name == ".." or name.startswith("../"):
            die(f"layer entry {member.name!r} leaves the root")
        if member.islnk():
            target = posixpath.normpath(member.linkname.lstrip("/"))
            if target == ".." or target.startswith("../"):
                die(f"layer hard link {member.name!r} -> {member.linkname!r} leaves the root")
        head, tail = posixpath.split(name)
        parent = os.path.realpath(os.path.join(root, head))
        if parent != real_root and not parent.startswith(real_root + os.sep):
            die(f"layer entry {member.name!r} goes through a link out of the root")
        if tail.startswith(".wh."):
            gone = os.path.join(parent, tail[len(".wh."):])
            if os.path.isdir(gone) and not os.path.islink(gone):
                shutil.rmtree(gone)
            elif os.path.lexists(gone):
                os.remove(gone)
            continue
        member.name = name
        layer.extract(member, root, numeric_owner=True, **trusted)


def unpack(args):
    with tarfile.open(args.archive) as tar:
        index = json.load(tar.extractfile("index.json"))
        if len(index["manifests"]) != 1:
            die(f"expected one image in index.json, found {len(index['manifests'])}")
        manifest = json.loads(read_blob(tar, index["manifests"][0]))
        config = json.loads(read_blob(tar, manifest["config"]))
        os.makedirs(args.dir, exist_ok=True)
        for descriptor, diff_id in zip(manifest["layers"], config["rootfs"]["diff_ids"]):
            raw = gzip.decompress(read_blob(tar, descriptor))
            if sha256(raw) != diff_id:
                die(f"layer {descriptor['digest']} does not match diff_id {diff_id}")
            with tarfile.open(fileobj=io.BytesIO(raw)) as layer:
                extract_layer(layer, args.dir)
    run = config.get("config", {})
    print(json.dumps({k: run.get(k) for k in ("Entrypoint", "Cmd", "Env", "WorkingDir")}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="assemble an image archive")
    b.add_argument("--ref", required=True, help="image reference, e.g. ghcr.io/berth-ipam/berth:0.1.0")
    b.add_argument("--output", required=True, help="the archive to write")
    b.add_argument("--file", action="append", default=[], help="/DEST/IN/IMAGE=SOURCE (mode 0755)")
    b.add_argument("--entrypoint", required=True, help="absolute path of the entrypoint")
    b.add_argument("--cmd-json", default="[]", help='default arguments, a JSON list: \'["--help"]\'')
    u = sub.add_parser("unpack", help="extract an image's layers into a directory")
    u.add_argument("archive")
    u.add_argument("dir")
    args = parser.parse_args()
    if args.command == "build":
        build(args)
    else:
        unpack(args)


if __name__ == "__main__":
    main()
