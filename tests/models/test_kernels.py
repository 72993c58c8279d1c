from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from rag_app.config import Settings
from rag_app.models import kernels
from rag_app.models.kernels import (
    UnsupportedKernels,
    check_kernels,
    cmake_options,
    cpu_flags,
    missing_features,
)

# /proc/cpuinfo flags of the two CPU kinds these machines have had (abridged to what matters).
EPYC = frozenset(["sse4_2", "pni", "ssse3", "avx", "avx2", "fma", "f16c", "bmi2"])
XEON = EPYC | frozenset(
    [
        "avx_vnni",
        "avx512f",
        "avx512cd",
        "avx512vl",
        "avx512dq",
        "avx512bw",
        "avx512vbmi",
        "avx512_vnni",
        "avx512_bf16",
        "amx_tile",
        "amx_int8",
        "amx_bf16",
    ]
)
AVX512_BUILD = "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | AVX512 = 1 | AVX512_VNNI = 1 | "


def test_an_avx2_only_cpu_gets_todays_portable_build() -> None:
    on = {k for k, v in cmake_options(EPYC).items() if v}
    assert on == {"GGML_SSE42", "GGML_AVX", "GGML_AVX2", "GGML_FMA", "GGML_F16C", "GGML_BMI2"}


def test_an_avx512_cpu_gets_avx512_and_vnni_but_never_amx_or_native() -> None:
    options = cmake_options(XEON)
    assert options["GGML_AVX512"] and options["GGML_AVX512_VNNI"] and options["GGML_AVX_VNNI"]
    assert not any(options[k] for k in kernels.ALWAYS_OFF)


def test_an_avx512_extension_without_avx512_itself_stays_off() -> None:
    """VNNI-512 compiled without the AVX-512 base would not even build."""
    options = cmake_options(EPYC | {"avx512_vnni"})
    assert not options["GGML_AVX512"] and not options["GGML_AVX512_VNNI"]


def test_a_binary_built_for_avx512_is_refused_on_an_avx2_cpu(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert missing_features(AVX512_BUILD, EPYC) == ["AVX512", "AVX512_VNNI"]
    assert missing_features(AVX512_BUILD, XEON) == []
    assert missing_features(AVX512_BUILD, frozenset()) == []  # no cpuinfo: nothing to judge by
    monkeypatch.setattr(kernels, "system_info", lambda: AVX512_BUILD)
    monkeypatch.setattr(kernels, "cpu_flags", lambda: EPYC)
    with pytest.raises(UnsupportedKernels, match=r"AVX512, AVX512_VNNI.*make install"):
        check_kernels()


def test_cpu_flags_read_the_first_processor(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 fma\n\nprocessor\t: 1\nflags\t: fpu\n")
    assert cpu_flags(info) == {"fpu", "avx2", "fma"}
    assert cpu_flags(tmp_path / "missing") == frozenset()


@pytest.mark.integration
def test_the_installed_build_runs_here_and_answers_correctly(settings: Settings) -> None:
    """`make install` compiled llama.cpp for this CPU: every kernel it runs is one this CPU
    has, the kernels this CPU offers (but AMX) are in it, and the default model answers."""
    from rag_app.models.llm import make_chat_model

    info = kernels.system_info()
    assert missing_features(info, cpu_flags()) == []
    built = kernels.built_features(info)
    wanted = {k for k, on in cmake_options(cpu_flags()).items() if on}
    if "GGML_AVX512" in wanted:
        assert "AVX512" in built
    assert "AMX_INT8" not in built
    llm = make_chat_model(settings.updated(llm_max_tokens=24, llm_temperature=0.0))
    reply = llm.invoke(
        [
            SystemMessage("Answer from the passage in one short sentence."),
            HumanMessage(
                "Passage: The reading room opens at 7 am and the archive on Thursdays only.\n"
                "Question: On which day is the archive open?"
            ),
        ]
    )
    assert "thursday" in str(reply.content).lower()
