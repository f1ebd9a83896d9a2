#!/usr/bin/env python3
"""Helpers of scripts/build-packages.sh that are easier in Python than in shell:

  man      roff man page from swift-argument-parser's `--experimental-dump-help` JSON
  confman  cpsd.conf(5) from the README's configuration paragraphs and Configuration.swift's key list
  crx      a CRX3 package of a directory, signed with an RSA key (openssl does the signature)
  crxid    the Chromium extension id of an RSA key (PEM, private or public)

Only the standard library and the openssl command are used.
"""
import argparse
import datetime
import hashlib
import io
import json
import os
import re
import struct
import subprocess
import sys
import zipfile


def fail(message):
    sys.stderr.write(f"pkgtool: {message}\n")
    sys.exit(1)


# --- roff -------------------------------------------------------------------------------------------

def roff_escape(text):
    text = text.replace("\\", "\\e").replace("-", "\\-")
    lines = []
    for line in text.split("\n"):
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def markdown_to_roff(text):
    """README prose to roff: `code` -> bold, **x** -> bold, links kept as text."""
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)
    text = roff_escape(text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"\\fB\1\\fR", text)
    text = re.sub(r"`([^`]+)`", r"\\fB\1\\fR", text)
    text = re.sub(r"\*([^*]+)\*", r"\\fI\1\\fR", text)
    return text


def header(name, section, date, version, title):
    return (f'.TH "{name.upper()}" "{section}" "{date}" "cpsd {version}" "{title}"\n')


def option_synopsis(argument):
    names = argument.get("names") or []
    kind = argument["kind"]
    value = argument.get("valueName", "value")
    if kind == "positional":
        return f"\\fI{roff_escape(value)}\\fR" + ("..." if argument.get("isRepeating") else "")
    spelled = []
    for name in names:
        prefix = "-" if name["kind"] in ("short", "longWithSingleDash") else "--"
        spelled.append("\\fB" + roff_escape(prefix + name["name"]) + "\\fR")
    text = ", ".join(spelled)
    if kind == "option":
        text += f" \\fI{roff_escape('<' + value + '>')}\\fR"
    return text


def render_arguments(arguments):
    out = []
    for argument in arguments or []:
        if not argument.get("shouldDisplay", True):
            continue
        out.append(".TP\n" + option_synopsis(argument) + "\n")
        abstract = argument.get("abstract") or ""
        if argument.get("defaultValue") not in (None, ""):
            abstract += f" (default: {argument['defaultValue']})"
        if argument.get("allValues"):
            abstract += " (one of: " + ", ".join(argument["allValues"]) + ")"
        out.append(roff_escape(abstract.strip() or "-") + "\n")
        if argument.get("discussion"):
            discussion = argument["discussion"]
            if isinstance(discussion, dict):
                discussion = discussion.get("abstract") or json.dumps(discussion)
            out.append(".IP\n" + roff_escape(str(discussion)) + "\n")
    return "".join(out)


def render_command(command, path, depth):
    out = []
    full = " ".join(path)
    if depth > 0:
        out.append(f'.SS "{roff_escape(full)}"\n')
        if command.get("abstract"):
            out.append(roff_escape(command["abstract"]) + "\n")
        out.append(".PP\n\\fBUsage:\\fR \\fB" + roff_escape(full) + "\\fR [options]\n")
        if command.get("discussion"):
            out.append(".PP\n" + roff_escape(command["discussion"]) + "\n")
        visible = [a for a in command.get("arguments") or [] if a.get("shouldDisplay", True)
                   and a.get("preferredName", {}).get("name") not in ("help", "version")]
        if visible:
            out.append(render_arguments(visible))
    for sub in command.get("subcommands") or []:
        if sub.get("commandName") == "help" or not sub.get("shouldDisplay", True):
            continue
        out.append(render_command(sub, path + [sub["commandName"]], depth + 1))
    return "".join(out)


def cmd_man(args):
    with open(args.json, encoding="utf-8") as handle:
        dump = json.load(handle)
    command = dump["command"]
    name = command["commandName"]
    out = [header(name, args.section, args.date, args.version, args.title)]
    out.append(".SH NAME\n" + f"{name} \\- " + roff_escape(command.get("abstract", "")) + "\n")
    visible = [sub for sub in command.get("subcommands") or []
               if sub.get("commandName") != "help" and sub.get("shouldDisplay", True)]
    out.append(".SH SYNOPSIS\n\\fB" + roff_escape(name) + "\\fR")
    if visible:
        out.append(" \\fIsubcommand\\fR")
    out.append(" [\\fIoptions\\fR]\n")
    out.append(".SH DESCRIPTION\n" + roff_escape(command.get("abstract", "")) + "\n")
    if command.get("discussion"):
        out.append(".PP\n" + roff_escape(command["discussion"]) + "\n")
    out.append(".SH OPTIONS\n" + render_arguments(command.get("arguments")))
    if visible:
        out.append(".SH COMMANDS\n")
        out.append(render_command(command, [name], 0))
    for extra in args.extra or []:
        with open(extra, encoding="utf-8") as handle:
            out.append(handle.read())
    out.append(".SH SEE ALSO\n" + ", ".join(f"\\fB{s.split('(')[0]}\\fR({s.split('(')[1]}" for s in args.see_also) + "\n")
    with open(args.output, "w", encoding="utf-8") as handle:
        handle.write("".join(out))


def readme_bullet(readme, label):
    """The text of the README bullet `- **label**...` (its continuation lines joined)."""
    lines = readme.split("\n")
    for index, line in enumerate(lines):
        if line.startswith(f"- **{label}**"):
            text = [line[2:]]
            for follow in lines[index + 1:]:
                if follow.startswith("  ") and not follow.lstrip().startswith("- "):
                    text.append(follow.strip())
                else:
                    break
            return " ".join(text)
    fail(f"README.md has no bullet '- **{label}**': cpsd.conf(5) cannot be made")


def cmd_confman(args):
    readme = open(args.readme, encoding="utf-8").read()
    swift = open(args.configuration, encoding="utf-8").read()
    block = re.search(r"/// ```\n((?:/// .*\n)+?)/// ```", swift)
    if not block:
        fail(f"{args.configuration} has no ``` block of settings")
    keys = []
    for raw in block.group(1).split("\n"):
        line = raw[4:] if raw.startswith("/// ") else raw
        match = re.match(r"\s*([a-z-]+)\s*=\s*(\S+)?\s*(?:#\s*(.*))?$", line)
        if match:
            keys.append(match.groups())
    if not keys:
        fail("no key found in Configuration.swift's settings block")
    out = [header("cpsd.conf", "5", args.date, args.version, "cpsd manual")]
    out.append(".SH NAME\ncpsd.conf \\- settings of cpsd, the CPS card daemon\n")
    out.append(".SH SYNOPSIS\n\\fI$XDG_CONFIG_HOME/cpsd/cpsd.conf\\fR (default \\fI~/.config/cpsd/cpsd.conf\\fR), "
               "or the file given with \\fBcpsd \\-\\-config\\fR \\fIFILE\\fR.\n")
    out.append(".SH DESCRIPTION\n" + markdown_to_roff(readme_bullet(readme, "Configuration")) + "\n")
    out.append(".PP\nA missing file means the defaults. Lines are \\fIkey\\fR \\fB=\\fR \\fIvalue\\fR; "
               "\\fB#\\fR starts a comment. cpsd reads the file at start and again on SIGHUP (a broken file is "
               "refused and the previous settings stay).\n")
    out.append(".SH SETTINGS\n")
    for key, value, comment in keys:
        out.append(f".TP\n\\fB{roff_escape(key)}\\fR = \\fI{roff_escape(value or '')}\\fR\n")
        out.append(roff_escape((comment or "").strip() or "-") + "\n")
    out.append(".SH BROWSER BRIDGE\n" + markdown_to_roff(readme_bullet(readme, "Settings")) + "\n")
    out.append(".SH FILES\n.TP\n\\fI~/.config/cpsd/cpsd.conf\\fR\nThis file.\n"
               ".TP\n\\fI~/.local/state/cpsd/\\fR\nThe bridge's certificate and the paired extensions.\n")
    out.append(".SH SEE ALSO\n\\fBcpsd\\fR(8), \\fBcpsctl\\fR(1)\n")
    with open(args.output, "w", encoding="utf-8") as handle:
        handle.write("".join(out))


# --- CRX3 -------------------------------------------------------------------------------------------

def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number, payload):
    """A protobuf length-delimited field."""
    return varint((number << 3) | 2) + varint(len(payload)) + payload


def public_key_der(key):
    result = subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-outform", "DER"],
                            capture_output=True, check=False)
    if result.returncode != 0:
        result = subprocess.run(["openssl", "pkey", "-pubin", "-in", key, "-outform", "DER"],
                                capture_output=True, check=False)
    if result.returncode != 0:
        fail(f"openssl cannot read the key {key}: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout


def extension_id(der):
    digest = hashlib.sha256(der).hexdigest()[:32]
    return "".join(chr(ord("a") + int(c, 16)) for c in digest)


def zip_directory(directory, drop_key):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for root, dirs, files in os.walk(directory):
            dirs.sort()
            for name in sorted(files):
                full = os.path.join(root, name)
                relative = os.path.relpath(full, directory)
                if name in ("README.md", "manifest-key.txt"):
                    continue
                data = open(full, "rb").read()
                if relative == "manifest.json" and drop_key:
                    manifest = json.loads(data)
                    manifest.pop("key", None)
                    data = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()
                info = zipfile.ZipInfo(relative, date_time=(2020, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)
    return buffer.getvalue()


def cmd_crx(args):
    der = public_key_der(args.key)
    crx_id = hashlib.sha256(der).digest()[:16]
    archive = zip_directory(args.directory, args.drop_manifest_key)
    signed_data = field(1, crx_id)  # SignedData { bytes crx_id = 1; }
    message = b"CRX3 SignedData\x00" + struct.pack("<I", len(signed_data)) + signed_data + archive
    signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", args.key], input=message,
                               capture_output=True, check=False)
    if signature.returncode != 0:
        fail(f"openssl cannot sign with {args.key}: {signature.stderr.decode(errors='replace').strip()}")
    proof = field(1, der) + field(2, signature.stdout)  # AsymmetricKeyProof
    header_bytes = field(2, proof) + field(10000, signed_data)  # sha256_with_rsa = 2, signed_header_data = 10000
    with open(args.output, "wb") as handle:
        handle.write(b"Cr24" + struct.pack("<I", 3) + struct.pack("<I", len(header_bytes)) + header_bytes + archive)
    if args.zip_output:
        with open(args.zip_output, "wb") as handle:
            handle.write(archive)
    print(extension_id(der))


def cmd_crxid(args):
    if args.manifest_key:
        import base64
        der = base64.b64decode(open(args.manifest_key, encoding="ascii").read().strip())
    else:
        der = public_key_der(args.key)
    print(extension_id(der))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    today = (datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).date() if epoch
             else datetime.date.today())

    man = sub.add_parser("man")
    man.add_argument("--json", required=True)
    man.add_argument("--section", required=True)
    man.add_argument("--version", required=True)
    man.add_argument("--title", default="cpsd manual")
    man.add_argument("--date", default=today.isoformat())
    man.add_argument("--extra", action="append")
    man.add_argument("--see-also", action="append", default=[])
    man.add_argument("--output", required=True)
    man.set_defaults(func=cmd_man)

    conf = sub.add_parser("confman")
    conf.add_argument("--readme", required=True)
    conf.add_argument("--configuration", required=True)
    conf.add_argument("--version", required=True)
    conf.add_argument("--date", default=today.isoformat())
    conf.add_argument("--output", required=True)
    conf.set_defaults(func=cmd_confman)

    crx = sub.add_parser("crx")
    crx.add_argument("--directory", required=True)
    crx.add_argument("--key", required=True)
    crx.add_argument("--output", required=True)
    crx.add_argument("--zip-output", help="also write the bare zip (a Firefox .xpi)")
    crx.add_argument("--drop-manifest-key", action="store_true",
                     help="remove manifest.json's key (it names another id than this key's)")
    crx.set_defaults(func=cmd_crx)

    crxid = sub.add_parser("crxid")
    source = crxid.add_mutually_exclusive_group(required=True)
    source.add_argument("--key", help="RSA key, PEM")
    source.add_argument("--manifest-key", help="a file holding manifest.json's base64 `key`")
    crxid.set_defaults(func=cmd_crxid)

    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
