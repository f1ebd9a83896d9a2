#!/usr/bin/env python3
"""The module map, checked: each target of Sources/ sits on a layer and may import only targets of lower
layers; a dependency declared in Package.swift that no file of the target imports is an error too.

The layers are listed here once (Package.swift's section comments follow them). Fails with one line per
violation; run by `make test` before the build.
"""
import json
import pathlib
import re
import subprocess
import sys

LAYERS = [
    ("C modules", ["CPCSCLite", "CP11Kit"]),
    ("the one error shape", ["ErrorShape"]),
    ("vocabulary: types and rules, no I/O",
     ["SmartCardCore", "PartialHash", "PKCS11Constants", "BridgeProtocol", "WebEid"]),
    ("edges: one outside thing each (PC/SC, a card protocol, p11-kit, a dialog program, a file, a socket)",
     ["PCSC", "VirtualCard", "IASECC", "CardIdentity", "LocalCA", "PinEntry", "PKCS11", "P11KitClient",
      "BridgeClient", "VirtualReaderStack"]),
    ("services: the daemon's card service, the PKCS#11 server, the diagnostics, the relying party",
     ["CardDaemon", "P11KitServer", "Diagnostics", "WebEidRelyingParty", "CardTestSupport"]),
    ("the browser bridge (on the card service) and the demo relying party's server",
     ["BrowserBridge", "DemoRelyingParty"]),
    ("executables: argument parsing, composition, printing",
     ["cpsd", "cpsctl", "cps-vcard", "cps-demo-rp"]),
]

IMPORT = re.compile(r"^\s*(?:@_implementationOnly\s+|(?:public|package|internal|private)\s+)?import\s+([A-Za-z_][A-Za-z_0-9]*)",
                    re.MULTILINE)


def main() -> int:
    root = pathlib.Path(__file__).resolve().parent.parent
    layer_of = {name: index for index, (_, names) in enumerate(LAYERS) for name in names}
    package = json.loads(subprocess.run(["swift", "package", "dump-package"], cwd=root, check=True,
                                        capture_output=True, text=True).stdout)
    targets = {target["name"]: target for target in package["targets"]}
    problems = []
    for target in sorted(targets.values(), key=lambda t: t["name"]):
        name = target["name"]
        if target["type"] == "test":
            continue
        if name not in layer_of:
            problems.append(f"{name}: on no layer (add it to scripts/check-layers.py)")
            continue
        folder = root / (target.get("path") or f"Sources/{name}")
        imports = {}
        for file in sorted(folder.rglob("*.swift")):
            for module in IMPORT.findall(file.read_text()):
                imports.setdefault(module, file.relative_to(root))
        for module, file in sorted(imports.items()):
            if module in layer_of and module != name and layer_of[module] >= layer_of[name]:
                problems.append(f"{file}: {name} (layer {layer_of[name]}) imports {module} (layer {layer_of[module]})")
        for dependency in declared(target):
            if dependency not in imports and target["type"] != "system":
                problems.append(f"{name}: depends on {dependency} in Package.swift but never imports it")
    for problem in problems:
        print(f"check-layers: {problem}")
    return 1 if problems else 0


def declared(target):
    """The modules a target's Package.swift entry names: targets by name, products by their module name."""
    for dependency in target.get("dependencies", []):
        for kind in ("byName", "target", "product"):
            if kind in dependency:
                yield dependency[kind][0]


if __name__ == "__main__":
    sys.exit(main())
