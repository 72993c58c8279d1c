"""Which x86 kernels llama.cpp is built with: chosen from this CPU at install time, checked
against the CPU at load time.

Why not one portable build: ggml's quantised matmuls prefill 1.3-1.5x faster with AVX-512 and
VNNI than with AVX2 on the Xeons these machines have (`bench/results/2026-12-02-llm-*.json`), but
a binary with AVX-512 dies of SIGILL on the AVX2-only EPYCs CI has also run on. ggml's runtime
dispatch (`GGML_BACKEND_DL` + `GGML_CPU_ALL_VARIANTS`) would compile the CPU backend, the slowest
part of the build, once per x86 variant (about ten, on 2 cores), and then looks for the variants
beside the executable (python's `bin/`) or in the working directory, not in `llama_cpp/lib`. So
`make install` compiles for the CPU it runs on, and `check_kernels` turns a venv carried to a
lesser CPU into a clear error instead of a crash.

AMX stays off everywhere: a build with it dies on the first decode on these VMs (SIGSEGV in
`ggml_backend_amx_mul_mat` natively, SIGILL with the AMX options), although ggml requests the
tile permission (`ARCH_REQ_XCOMP_PERM`) itself, requesting it at process start changes nothing,
and a plain AMX-INT8 tile program runs here (`bench/results/2026-12-02-llm-amx.json`).

Run as a script (stdlib only, before anything is installed): ``python rag_app/models/kernels.py
--cmake-args`` prints the CMake flags for this CPU; ``python -m rag_app.models.kernels`` prints
what the installed binary runs.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

# ggml CMake option -> the /proc/cpuinfo flags it compiles in (ggml/src/ggml-cpu/CMakeLists.txt:
# GGML_AVX512 adds -mavx512f -mavx512cd -mavx512vl -mavx512dq -mavx512bw). Order matters only
# for reading the output.
CMAKE_OPTIONS: dict[str, tuple[str, ...]] = {
    "GGML_SSE42": ("sse4_2",),
    "GGML_AVX": ("avx",),
    "GGML_AVX2": ("avx2",),
    "GGML_FMA": ("fma",),
    "GGML_F16C": ("f16c",),
    "GGML_BMI2": ("bmi2",),
    "GGML_AVX_VNNI": ("avx_vnni",),
    "GGML_AVX512": ("avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw"),
    "GGML_AVX512_VBMI": ("avx512vbmi",),
    "GGML_AVX512_VNNI": ("avx512_vnni",),
    "GGML_AVX512_BF16": ("avx512_bf16",),
}
# Options that only make sense on top of another (an AVX-512 extension without AVX-512).
_REQUIRES = {
    "GGML_AVX512_VBMI": "GGML_AVX512",
    "GGML_AVX512_VNNI": "GGML_AVX512",
    "GGML_AVX512_BF16": "GGML_AVX512",
    "GGML_FMA": "GGML_AVX2",
    "GGML_AVX2": "GGML_AVX",
}
ALWAYS_OFF = ("GGML_NATIVE", "GGML_AMX_TILE", "GGML_AMX_INT8", "GGML_AMX_BF16")
# llama_print_system_info() feature name -> the cpuinfo flags it needs.
_SYSTEM_INFO_FLAGS: dict[str, tuple[str, ...]] = {
    "SSE3": ("pni",),
    "SSSE3": ("ssse3",),
    "AVX": ("avx",),
    "AVX2": ("avx2",),
    "FMA": ("fma",),
    "F16C": ("f16c",),
    "BMI2": ("bmi2",),
    "AVX_VNNI": ("avx_vnni",),
    "AVX512": CMAKE_OPTIONS["GGML_AVX512"],
    "AVX512_VBMI": ("avx512vbmi",),
    "AVX512_VNNI": ("avx512_vnni",),
    "AVX512_BF16": ("avx512_bf16",),
    "AMX_INT8": ("amx_int8", "amx_tile"),
}


class UnsupportedKernels(RuntimeError):
    """The llama.cpp binary uses instructions this CPU lacks (a venv built on another machine)."""


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The first processor's flags; empty where there is no /proc/cpuinfo (not Linux)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    match = re.search(r"^flags\s*:(.*)$", text, re.MULTILINE)
    return frozenset(match.group(1).split()) if match else frozenset()


def cmake_options(flags: frozenset[str]) -> dict[str, bool]:
    """Every x86 option ggml has, on where this CPU supports it and what it builds on is on."""
    chosen = {option: set(needed) <= flags for option, needed in CMAKE_OPTIONS.items()}
    for option, base in _REQUIRES.items():
        chosen[option] = chosen[option] and chosen[base]
    return {**dict.fromkeys(ALWAYS_OFF, False), **chosen}


def cmake_args(flags: frozenset[str]) -> str:
    return " ".join(f"-D{k}={'ON' if on else 'OFF'}" for k, on in cmake_options(flags).items())


def built_features(system_info: str) -> frozenset[str]:
    """The CPU features llama.cpp reports as compiled in, e.g. from
    ``"CPU : SSE3 = 1 | AVX = 1 | AVX512 = 1 | ..."``."""
    return frozenset(re.findall(r"\b([A-Z0-9_]+) = 1\b", system_info))


def missing_features(system_info: str, flags: frozenset[str]) -> list[str]:
    """Compiled-in features this CPU cannot run; nothing is judged without cpuinfo flags."""
    if not flags:
        return []
    built = built_features(system_info)
    return [f for f, needed in _SYSTEM_INFO_FLAGS.items() if f in built and set(needed) - flags]


def system_info() -> str:
    import llama_cpp

    info = llama_cpp.llama_print_system_info()
    return info.decode() if isinstance(info, bytes) else str(info)


def check_kernels() -> None:
    """Raises before llama.cpp loads a model with instructions the CPU would fault on."""
    missing = missing_features(system_info(), cpu_flags())
    if missing:
        raise UnsupportedKernels(
            f"llama.cpp was built for another CPU: it uses {', '.join(missing)}, which this "
            "CPU lacks; rebuild it here with `rm .venv/.installed && make install`"
        )


def describe() -> str:
    """One line for `make install`: the kernels the binary runs and what the CPU offers."""
    flags, info = cpu_flags(), system_info()
    built = built_features(info)
    runs = [f for f in _SYSTEM_INFO_FLAGS if f in built]
    offered = [f for f, needed in _SYSTEM_INFO_FLAGS.items() if set(needed) <= flags]
    unused = [f for f in offered if f not in built]
    line = f"llama.cpp kernels: {' '.join(runs) or 'none beyond SSE'}"
    if unused:
        line += f" (this CPU also has {' '.join(unused)}, not built in)"
    missing = missing_features(info, flags)
    if missing:
        line += f"; MISSING on this CPU: {' '.join(missing)}"
    return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--cmake-args", action="store_true", help="print the CMake flags for this CPU"
    )
    args = parser.parse_args(argv)
    if args.cmake_args:
        print(cmake_args(cpu_flags()))
        return 0
    line = describe()
    print(line)
    return 1 if "MISSING" in line else 0


if __name__ == "__main__":
    sys.exit(main())
