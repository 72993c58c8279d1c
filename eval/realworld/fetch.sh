#!/usr/bin/env bash
# fetch.sh - rebuild the "real-world documents" ingestion corpus from pinned Debian packages.
#
#   usage: eval/realworld/fetch.sh [TARGET_DIR]        (default: /work/corpus/files)
#   env:   PYTHON=...        interpreter with pip, pypdf, python-docx, python-pptx, openpyxl and
#                            cryptography (for AES) (default: the repository's .venv)
#          MANIFEST=...      where to write the manifest of this build
#                            (default: <dirname TARGET>/manifest.tsv)
#          DEB_CACHE=...     optional folder to keep/reuse the downloaded .deb files
#          ALLOW_NEWER=1     if a pinned version has left the archive, take the current one
#                            (its files' hashes will then differ from manifest.tsv)
#
# Every file is either copied verbatim out of a pinned Debian package (name=version) or
# derived from such a file by a step below; manifest.tsv beside this script says which.
# The build happens in a scratch folder next to TARGET, and TARGET is replaced only at the
# end, so running it again gives the same tree (idempotent).  Needs: apt-get, dpkg-deb, the
# Python above, and - for the derived files - LibreOffice, poppler-utils and img2pdf, which
# it installs with apt-get when they are missing.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TARGET=${1:-/work/corpus/files}
TARGET=$(mkdir -p "$(dirname "$TARGET")" && cd "$(dirname "$TARGET")" && pwd)/$(basename "$TARGET")
PYTHON=${PYTHON:-$HERE/../../.venv/bin/python}
MANIFEST=${MANIFEST:-$(dirname "$TARGET")/manifest.tsv}
START=$(date +%s)
trim() { local s=$1; s=${s#"${s%%[![:space:]]*}"}; printf '%s' "${s%"${s##*[![:space:]]}"}"; }
log() { printf '[fetch.sh %3ss] %s\n' "$(( $(date +%s) - START ))" "$*"; }

# --- 0. Pre-flight: Python modules, helper tools (installed with apt-get when missing) ------
"$PYTHON" - <<'PY' || { echo "fetch.sh: set PYTHON to an interpreter that has the modules above" >&2; exit 2; }
import importlib.util, sys
missing = [m for m in ("pypdf", "docx", "pptx", "openpyxl") if importlib.util.find_spec(m) is None]
if not any(importlib.util.find_spec(m) for m in ("cryptography", "Crypto")):
    missing.append("cryptography (pypdf needs it for AES)")
if missing:
    sys.exit(f"fetch.sh: {sys.executable} lacks: {', '.join(missing)}")
PY
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
APT_OPTS=(); [ "$(id -u)" -eq 0 ] && APT_OPTS=(-o APT::Sandbox::User=root)
need_tools=()
command -v soffice  >/dev/null || need_tools+=(libreoffice-writer libreoffice-impress libreoffice-calc)
command -v pdftoppm >/dev/null || need_tools+=(poppler-utils)
command -v img2pdf  >/dev/null || need_tools+=(img2pdf)
if [ ${#need_tools[@]} -gt 0 ]; then
  log "installing missing tools with apt-get: ${need_tools[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_tools[@]}" >/dev/null
fi

WORK=$(mktemp -d "$(dirname "$TARGET")/.fetch.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
STAGE=$WORK/files; ROOTS=$WORK/roots; DEBS=${DEB_CACHE:-$WORK/debs}; ROWS=$WORK/rows.tsv
mkdir -p "$STAGE"/{pdf,pdf-special,docx,pptx,xlsx,csv} "$ROOTS" "$DEBS"; : > "$ROWS"

# --- 1. Pinned packages: download and unpack each one -------------------------------------
# amd64-only packages are marked; all others are Architecture: all.
PACKAGES=(
  apostrophe=2.6.3-4                    # amd64
  aprx=2.9.1-1                          # amd64
  auto-multiple-choice-doc-pdf=1.6.0-1
  bash-doc=5.2.15-2
  coco-doc=20060919.0-1
  cvs=2:1.12.13+real-28+deb12u1         # amd64
  debmake-doc=1.17-7
  dicomscope-doc=3.6.0-25
  dpf-source=1.6+ds-2
  dynare=5.3-1                          # amd64
  finalcif=113+dfsg-2
  fonts-texgyre-math=20180621-6
  fop-doc=1:2.8-2
  glpk-doc=5.0-1
  golang-github-gabriel-vasile-mimetype-dev=1.4.1+dfsg1-2
  gutenprint-doc=5.3.4.20220624T01008808d602-1
  libexplain-doc=1.4.D001-12
  libsystemc-doc=2.3.4-2
  libtrompeloeil-cpp-dev=43-3           # amd64
  paperwork-gtk=2.1.1-1
  python-odf-doc=1.4.2-2
  python-py7zr-doc=0.11.3+dfsg-5
  python-reportlab-doc=3.6.12-1+deb12u1
  python-tables-doc=3.7.0-5
  python3-canmatrix=0.9.5~github-3
  python3-pattern=2.6+git20180818-4
  r-cran-gdata=2.18.0.1-1
  r-cran-officer=0.6.0+dfsg-1
  r-cran-rcpp=1.0.10-1                  # amd64
  r-cran-readxl=1.4.2-1                 # amd64
  rasmol-doc=2.7.6.0-3
  raster3d-doc=3.0-7-2
  swig4.0-doc=4.1.0-0.2
  toppic-common=1.5.3+dfsg1-1
  writer2latex-manual=1.4-11
  xemacs21-basesupport=2009.02.17.dfsg.3-1
  xlsx2csv=1:0.7.8-1
  xmlformat-doc=1.04-3
  zsh-doc=5.9-4
)
declare -A VERSION=()
debfile() {  # debfile name=version -> path of its .deb in $DEBS (any version if ALLOW_NEWER=1)
  local name=${1%%=*} ver=${1#*=}
  { compgen -G "$DEBS/${name}_${ver//:/%3a}_*.deb" ||
    { [ "${ALLOW_NEWER:-0}" = 1 ] && compgen -G "$DEBS/${name}_*.deb"; }; } | head -1
}
download() {  # download "$@" (name=version) into $DEBS unless already there
  local todo=() p
  for p in "$@"; do [ -n "$(debfile "$p")" ] || todo+=("$p"); done
  [ ${#todo[@]} -eq 0 ] && return 0
  (cd "$DEBS" && apt-get "${APT_OPTS[@]}" download -qq "${todo[@]}")
}
log "downloading ${#PACKAGES[@]} pinned packages"
if ! download "${PACKAGES[@]}" 2>"$WORK/apt.err"; then
  log "apt-get download failed; running apt-get update and retrying"
  $SUDO apt-get update -qq
  if ! download "${PACKAGES[@]}" 2>"$WORK/apt.err"; then
    [ "${ALLOW_NEWER:-0}" = 1 ] || { cat "$WORK/apt.err" >&2; echo "fetch.sh: a pinned version is gone from the archive; ALLOW_NEWER=1 takes the current one" >&2; exit 1; }
    for p in "${PACKAGES[@]}"; do
      download "$p" 2>/dev/null || { log "WARNING: $p is gone, taking the current ${p%%=*}"; download "${p%%=*}"; }
    done
  fi
fi
log "unpacking"
for p in "${PACKAGES[@]}"; do
  name=${p%%=*}; deb=$(debfile "$p")
  VERSION[$name]=$(dpkg-deb -f "$deb" Version)
  mkdir -p "$ROOTS/$name"; dpkg-deb -x "$deb" "$ROOTS/$name"
done

# --- 2. Verbatim copies: PACKAGE | path inside the package | destination | kind | notes ------
# A source ending in .gz with a destination that does not is gunzipped on the way.
take() {  # take PACKAGE SRC DEST KIND NOTES
  local pkg=$1 src=$2 dest=$3 kind=$4 notes=$5
  [ -f "$ROOTS/$pkg$src" ] || { echo "fetch.sh: $pkg has no $src" >&2; exit 1; }
  if [[ $src == *.gz && $dest != *.gz ]]; then gzip -dc "$ROOTS/$pkg$src" > "$STAGE/$dest"; notes="gunzipped; $notes"
  else cp "$ROOTS/$pkg$src" "$STAGE/$dest"; fi
  printf '%s\t%s\t%s\t%s\n' "$dest" "$kind" "$pkg=${VERSION[$pkg]}:$src" "$notes" >> "$ROWS"
}
log "copying verbatim files"
while IFS='|' read -r pkg src dest kind notes; do
  [[ -z ${pkg// } || $pkg == \#* ]] && continue
  take "$(trim "$pkg")" "$(trim "$src")" "$(trim "$dest")" "$(trim "$kind")" "$(trim "$notes")"
done <<'EOF'
# --- PDFs: varied producers, sizes and layouts
bash-doc             | /usr/share/doc/bash/bash.pdf                       | pdf/bash-doc__bash.pdf                  | pdf | man page: groff -> Ghostscript
bash-doc             | /usr/share/doc/bash/bashref.pdf                    | pdf/bash-doc__bashref.pdf               | pdf | Texinfo/pdfTeX manual, 196 pages
zsh-doc              | /usr/share/doc/zsh-common/zsh.pdf                  | pdf/zsh-doc__zsh.pdf                    | pdf | Texinfo/pdfTeX, large (480 pages)
python-reportlab-doc | /usr/share/doc/python-reportlab-doc/reportlab-userguide.pdf | pdf/python-reportlab-doc__reportlab-userguide.pdf | pdf | ReportLab producer; tables, code
xmlformat-doc        | /usr/share/doc/xmlformat-doc/xmlformat.pdf         | pdf/xmlformat-doc__xmlformat.pdf        | pdf | DocBook -> Apache FOP
glpk-doc             | /usr/share/doc/glpk-doc/glpk.pdf                   | pdf/glpk-doc__glpk.pdf                  | pdf | LaTeX/dvipdfmx reference; many tables and formulas
gutenprint-doc       | /usr/share/doc/gutenprint-doc/gutenprint-users-manual.pdf | pdf/gutenprint-doc__gutenprint-users-manual.pdf | pdf | LibreOffice 5.2 Writer; tables
aprx                 | /usr/share/doc/aprx/aprx-requirement-specification.pdf.gz | pdf/aprx__aprx-requirement-specification.pdf | pdf | OpenOffice.org 3.2 Writer
dicomscope-doc       | /usr/share/doc/dicomscope/dsum360.pdf              | pdf/dicomscope-doc__dsum360.pdf         | pdf | Acrobat Distiller 4.05 for Windows (1990s Word-style manual)
rasmol-doc           | /usr/share/doc/rasmol-doc/manualA4.pdf             | pdf/rasmol-doc__manualA4.pdf            | pdf | Microsoft Word via Mac OS X Quartz PDFContext
rasmol-doc           | /usr/share/doc/rasmol-doc/refcardA4.pdf            | pdf/rasmol-doc__refcardA4.pdf           | pdf | Word/Quartz reference card: 3 columns of small tables
raster3d-doc         | /usr/share/doc/raster3d/R3D_manual.pdf             | pdf/raster3d-doc__R3D_manual.pdf        | pdf | FrameMaker -> ESP Ghostscript 7.05; figures
swig4.0-doc          | /usr/share/doc/swig4.0-doc/Manual/SWIGDocumentation.pdf | pdf/swig4.0-doc__SWIGDocumentation.pdf | pdf | HTML -> wkhtmltopdf (Qt); 517 pages, largest text PDF
libexplain-doc       | /usr/share/doc/libexplain/reference.pdf            | pdf/libexplain-doc__reference.pdf       | pdf | groff man pages -> Ghostscript; 1031 pages
libsystemc-doc       | /usr/share/doc/libsystemc/examples/tlm/at_1_phase/docs/at_1_phase_example.pdf | pdf/libsystemc-doc__at_1_phase_example.pdf | pdf | PowerPoint slides printed via PDFCreator/Ghostscript
libsystemc-doc       | /usr/share/doc/libsystemc/examples/sysc/simple_bus/SLIDES.pdf | pdf/libsystemc-doc__SLIDES.pdf | pdf | slides, Acrobat Distiller 4.05 for Windows
xemacs21-basesupport | /usr/share/xemacs21/xemacs-packages/etc/guided-tour/emacs-slides-1.pdf | pdf/xemacs21-basesupport__emacs-slides-1.pdf | pdf | OpenOffice.org 2.0 Impress slides, 59 pages
libtrompeloeil-cpp-dev | /usr/share/doc/trompeloeil/docs/trompeloeil_cheat_sheet.pdf | pdf/libtrompeloeil-cpp-dev__trompeloeil_cheat_sheet.pdf | pdf | LibreOffice Impress cheat sheet: multi-column boxes of code
python3-pattern      | /usr/share/doc/python3-pattern/test/corpora/carroll-wonderland.pdf | pdf/python3-pattern__carroll-wonderland.pdf | pdf | MiKTeX book (Alice in Wonderland)
fonts-texgyre-math   | /usr/share/texmf/doc/fonts/tex-gyre-math/test-word-texgyre_termes_math.pdf | pdf/fonts-texgyre-math__test-word-texgyre_termes_math.pdf | pdf | Word math via PDFCreator; 1 page; text extracts as glyph-name garbage
debmake-doc          | /usr/share/doc/debmake-doc/debmake-doc.ja.pdf      | pdf/debmake-doc__debmake-doc.ja.pdf     | pdf | Japanese (CJK) DocBook/dblatex -> xdvipdfmx, 143 pages
paperwork-gtk        | /usr/share/doc/paperwork-gtk/usage.pdf             | pdf/paperwork-gtk__usage.pdf            | pdf | LaTeX manual full of screenshots (image-heavy)
python-tables-doc    | /usr/share/doc/python-tables-doc/usersguide.pdf    | pdf/python-tables-doc__usersguide.pdf   | pdf | Sphinx/LaTeX, 243 pages; benchmark tables
fop-doc              | /usr/share/doc/fop/examples/fo/advanced/cid-fonts.pdf | pdf/fop-doc__cid-fonts.pdf           | pdf | Apache FOP example with CID fonts; Producer is the literal string "null"
r-cran-rcpp          | /usr/lib/R/site-library/Rcpp/doc/Rcpp-introduction.pdf | pdf/r-cran-rcpp__Rcpp-introduction.pdf | pdf | two-column article (LaTeX -> Ghostscript 9.56)
cvs                  | /usr/share/doc/cvs/cvs-paper.pdf                   | pdf/cvs__cvs-paper.pdf                  | pdf | 1990 USENIX-style paper, groff -> Ghostscript
auto-multiple-choice-doc-pdf | /usr/share/doc/auto-multiple-choice/latex/sample-amc.pdf | pdf/auto-multiple-choice-doc-pdf__sample-amc.pdf | pdf | multiple-choice exam sheets: DRAFT watermark, tick boxes, markers
# --- DOCX shipped as such
r-cran-officer       | /usr/lib/R/site-library/officer/doc_examples/example.docx | docx/r-cran-officer__example.docx | docx | Heading 1/2, list, one table
python3-pattern      | /usr/share/doc/python3-pattern/test/corpora/carroll-lookingglass.docx | docx/python3-pattern__carroll-lookingglass.docx | docx | literary text, Normal style only (no headings)
toppic-common        | /usr/share/toppic/topmsv/doc/spectrum.html.docx   | docx/toppic-common__spectrum.html.docx  | docx | Word help page with screenshots, list paragraphs
toppic-common        | /usr/share/toppic/topmsv/doc/proteoform.docx      | docx/toppic-common__proteoform.docx     | docx | four tables
finalcif             | /usr/lib/python3/dist-packages/finalcif/template/template_text.docx | docx/finalcif__template_text.docx | docx | German styles, six tables of Jinja placeholders
apostrophe           | /usr/share/apostrophe/reference_files/reference-a4.docx | docx/apostrophe__reference-a4.docx | docx | pandoc reference document: one paragraph per style
# --- PPTX shipped as such
r-cran-officer       | /usr/lib/R/site-library/officer/doc_examples/example.pptx | pptx/r-cran-officer__example.pptx | pptx | 3 slides
golang-github-gabriel-vasile-mimetype-dev | /usr/share/gocode/src/github.com/gabriel-vasile/mimetype/testdata/pptx.pptx | pptx/mimetype__pptx.pptx | pptx | 1 slide, almost no text (file-type test sample)
# --- XLSX shipped as such
r-cran-readxl        | /usr/lib/R/site-library/readxl/extdata/datasets.xlsx | xlsx/r-cran-readxl__datasets.xlsx     | xlsx | 4 sheets (iris, mtcars, chickwts, quakes); no <dimension>, read_only reports 1x1
r-cran-readxl        | /usr/lib/R/site-library/readxl/extdata/deaths.xlsx   | xlsx/r-cran-readxl__deaths.xlsx       | xlsx | messy: title rows and footnotes around the table, dates
r-cran-readxl        | /usr/lib/R/site-library/readxl/extdata/type-me.xlsx  | xlsx/r-cran-readxl__type-me.xlsx      | xlsx | mixed cell types per column (bool, number, date, text)
r-cran-gdata         | /usr/lib/R/site-library/gdata/xls/ExampleExcelFile.xlsx | xlsx/r-cran-gdata__ExampleExcelFile.xlsx | xlsx | 4 sheets, one with a long name, text above the table
r-cran-gdata         | /usr/lib/R/site-library/gdata/xls/wide.xlsx       | xlsx/r-cran-gdata__wide.xlsx            | xlsx | 1 row x 16384 columns
r-cran-gdata         | /usr/lib/R/site-library/gdata/xls/latin-1.xlsx    | xlsx/r-cran-gdata__latin-1.xlsx         | xlsx | Latin-1 accented text, 63x62
python3-canmatrix    | /usr/share/doc/python3-canmatrix/examples/cmTemplate.xlsx | xlsx/python3-canmatrix__cmTemplate.xlsx | xlsx | CAN matrix template, merged/rotated header cells
xlsx2csv             | /usr/share/doc/xlsx2csv/examples/test/xlsx2csv-test-file.xlsx | xlsx/xlsx2csv__xlsx2csv-test-file.xlsx | xlsx | converter test file: formats, formulas
# --- CSV shipped as such
dynare               | /usr/lib/dynare/matlab/modules/dseries/tests/data/data_ca1_csv.csv | csv/dynare__data_ca1_csv.csv | csv | numeric time series, 5 columns
python3-pattern      | /usr/share/doc/python3-pattern/test/corpora/spelling-birkbeck.csv | csv/python3-pattern__spelling-birkbeck.csv | csv | UTF-8 BOM, quoted, no header row
xlsx2csv             | /usr/share/doc/xlsx2csv/examples/test/xlsx2csv-test-file.csv | csv/xlsx2csv__xlsx2csv-test-file.csv | csv | CSV twin of the xlsx2csv test workbook
EOF

# --- 2b. Real-world PDFs from PyPI source distributions (test data of PDF libraries) --------
# tabula-py's tests hold public statistical tables (US Census Statistical Abstract, campaign
# donors, a utility bill); pypdf's hold real-world files its users reported (a 137-page
# clinical guideline, an OCR'd scan, a government form, owner-password-only encryption).
log "downloading PyPI source distributions"
SDISTS=$WORK/sdists; mkdir -p "$SDISTS"
"$PYTHON" -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
  -d "$SDISTS" tabula-py==2.10.0 pypdf==7.1.1 >/dev/null
for archive in "$SDISTS"/*.tar.gz; do tar -xzf "$archive" -C "$SDISTS"; done
take_sdist() {  # take_sdist DIST==VERSION SRC DEST KIND NOTES  (SRC relative to the sdist)
  local dist=$1 src=$2 dest=$3 kind=$4 notes=$5
  [ -f "$SDISTS/$src" ] || { echo "fetch.sh: $dist has no $src" >&2; exit 1; }
  cp "$SDISTS/$src" "$STAGE/$dest"
  printf '%s\t%s\t%s\t%s\n' "$dest" "$kind" "pypi:$dist sdist:/$src" "$notes" >> "$ROWS"
}
while IFS='|' read -r dist src dest kind notes; do
  [[ -z ${dist// } || $dist == \#* ]] && continue
  take_sdist "$(trim "$dist")" "$(trim "$src")" "$(trim "$dest")" "$(trim "$kind")" "$(trim "$notes")"
done <<'EOF'
tabula-py==2.10.0 | tabula_py-2.10.0/tests/resources/12s0324.pdf            | pdf/tabula__census-12s0324.pdf          | pdf | Census Statistical Abstract table, no ruling lines, dotted leaders
tabula-py==2.10.0 | tabula_py-2.10.0/tests/resources/campaign_donors.pdf    | pdf/tabula__campaign-donors.pdf         | pdf | Spanish donor list, table without rules
tabula-py==2.10.0 | tabula_py-2.10.0/tests/resources/data.pdf               | pdf/tabula__mtcars.pdf                  | pdf | ruled table over 3 pages
tabula-py==2.10.0 | tabula_py-2.10.0/tests/resources/data_dtype.pdf         | pdf/tabula__utility-bill.pdf            | pdf | Brazilian electricity bill, form layout
pypdf==7.1.1      | pypdf-7.1.1/resources/issue-604.pdf                       | pdf/pypdf__nccn-guideline.pdf           | pdf | 137-page clinical guideline with many tables
pypdf==7.1.1      | pypdf-7.1.1/resources/Seige_of_Vicksburg_Sample_OCR.pdf   | pdf/pypdf__vicksburg-ocr.pdf            | pdf | scanned book pages with an OCR text layer
pypdf==7.1.1      | pypdf-7.1.1/resources/SF424_page2.pdf                     | pdf/pypdf__sf424-form.pdf               | pdf | US government grant form (AcroForm)
pypdf==7.1.1      | pypdf-7.1.1/resources/GeoBase_NHNC1_Data_Model_UML_EN.pdf | pdf/pypdf__geobase-data-model.pdf       | pdf | UML data model, diagrams and tables
pypdf==7.1.1      | pypdf-7.1.1/resources/AutoCad_Diagram.pdf                 | pdf/pypdf__autocad-diagram.pdf          | pdf | CAD drawing with text
pypdf==7.1.1      | pypdf-7.1.1/resources/encryption/r5-owner-password.pdf    | pdf-special/pypdf__r5-owner-password.pdf | pdf-encrypted | owner password only (AES-256 R5): must ingest
pypdf==7.1.1      | pypdf-7.1.1/resources/encryption/r6-owner-password.pdf    | pdf-special/pypdf__r6-owner-password.pdf | pdf-encrypted | owner password only (AES-256 R6): must ingest
EOF

derived() {  # derived DEST KIND "ORIGIN" NOTES  - record a file made by a step below
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$ROWS"
}
origin_of() { awk -F'\t' -v d="$1" '$1==d {print $3}' "$ROWS"; }

# --- 3. LibreOffice conversions of real ODT/ODP/ODS/PPT files to DOCX/PPTX/XLSX -----------
log "converting ODT/ODP/ODS/PPT with LibreOffice ($(soffice --version 2>/dev/null | head -1 | cut -d' ' -f1-2))"
convert() {  # convert PACKAGE SRC DEST NOTES
  local pkg=$1 src=$2 dest=$3 notes=$4 ext=${3##*.} out filter
  case $ext in
    docx) filter='docx:MS Word 2007 XML' ;;
    pptx) filter='pptx:Impress MS PowerPoint 2007 XML' ;;
    xlsx) filter='xlsx:Calc MS Excel 2007 XML' ;;
  esac
  out=$WORK/lo-out; rm -rf "$out"; mkdir -p "$out"
  soffice --headless --norestore -env:UserInstallation=file://$WORK/lo-profile \
    --convert-to "$filter" --outdir "$out" "$ROOTS/$pkg$src" </dev/null >/dev/null 2>&1
  mv "$out"/*."$ext" "$STAGE/$dest"
  derived "$dest" "$ext" "derived from $pkg=${VERSION[$pkg]}:$src by libreoffice --convert-to $ext" "$notes"
}
while IFS='|' read -r pkg src dest notes; do
  [[ -z ${pkg// } || $pkg == \#* ]] && continue
  convert "$(trim "$pkg")" "$(trim "$src")" "$(trim "$dest")" "$(trim "$notes")"
done <<'EOF'
gutenprint-doc       | /usr/share/doc/gutenprint-doc/gutenprint-users-manual.odt | docx/gutenprint-doc__gutenprint-users-manual.docx | 73-page manual: headings, 7 tables, images
writer2latex-manual  | /usr/share/doc/writer2latex/manual/user-manual.odt        | docx/writer2latex-manual__user-manual.docx | Heading 1-4, 24 tables
coco-doc             | /usr/share/doc/coco-doc/UserManual.odt                    | docx/coco-doc__UserManual.docx        | OpenOffice 2.0 source; German style names (Anhang), code
python-odf-doc       | /usr/share/python-odf/api-for-odfpy.odt                   | docx/python-odf-doc__api-for-odfpy.docx | long API reference (~230k characters), Heading 1-3
libsystemc-doc       | /usr/share/doc/libsystemc/examples/tlm/at_1_phase/docs/at_1_phase_example.ppt | pptx/libsystemc-doc__at_1_phase_example.pptx | from a real PowerPoint .ppt; diagrams
libtrompeloeil-cpp-dev | /usr/share/doc/trompeloeil/docs/trompeloeil_cheat_sheet.odp | pptx/libtrompeloeil-cpp-dev__trompeloeil_cheat_sheet.pptx | 2 dense slides of code boxes
xemacs21-basesupport | /usr/share/xemacs21/xemacs-packages/etc/guided-tour/emacs-slides-1.odp | pptx/xemacs21-basesupport__emacs-slides-1.pptx | 59 slides
python-py7zr-doc     | /usr/share/doc/python-py7zr-doc/html/_downloads/95258fe72f1c2ee14b78d021ee45a0e4/Introduction_of_py7zr.odp | pptx/python-py7zr-doc__Introduction_of_py7zr.pptx | 9 slides, English/Japanese
dpf-source           | /usr/share/dpf/lac/2014-small-talk.odp                    | pptx/dpf-source__2014-small-talk.pptx | conference talk, 11 slides
python-odf-doc       | /usr/share/python-odf/examples/countrystatistics.ods      | xlsx/python-odf-doc__countrystatistics.xlsx | 2 sheets: population, HDI by country
EOF

# --- 4. DOCX written with python-docx from real text: headings + tables from real data ---
log "writing DOCX files with python-docx"
SRC_MD=$ROOTS/dpf-source/usr/share/dpf/FEATURES.md
SRC_MAN=$ROOTS/cvs/usr/share/man/man1/cvs.1.gz
"$PYTHON" - "$SRC_MD" "$STAGE/docx/generated__dpf-features.docx" "$SRC_MAN" "$STAGE/docx/generated__cvs-manpage.docx" <<'PY'
import gzip, re, sys
import docx
md_path, md_out, man_path, man_out = sys.argv[1:5]

def fixed_props(d, title):
    d.core_properties.title = title
    d.core_properties.author = "fetch.sh (derived from Debian package text)"

# (a) Markdown (DPF FEATURES.md): '#'/'##' -> Heading 1/2, the pipe table -> a Word table.
d = docx.Document(); fixed_props(d, "DPF plugin format features")
lines = open(md_path, encoding="utf-8").read().splitlines()
i, para = 0, []
def flush():
    global para
    if para: d.add_paragraph(" ".join(s.strip() for s in para)); para = []
strip_links = lambda s: re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", s).replace("`", "")
while i < len(lines):
    ln = lines[i]
    m = re.match(r"^(#{1,3})\s+(.*)", ln)
    if m:
        flush(); d.add_heading(strip_links(m.group(2)), level=len(m.group(1)))
    elif ln.startswith("|"):
        flush(); rows = []
        while i < len(lines) and lines[i].startswith("|"):
            cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
            if not all(re.fullmatch(r":?-+:?", c) for c in cells):
                rows.append([strip_links(c) for c in cells])
            i += 1
        t = d.add_table(rows=len(rows), cols=len(rows[0])); t.style = "Table Grid"
        for r, row in enumerate(rows):
            for c, val in enumerate(row):
                t.cell(r, c).text = val
        for cell in t.rows[0].cells:
            for run in cell.paragraphs[0].runs: run.bold = True
        continue
    elif re.match(r"^\s*[-*]\s+", ln):
        flush(); d.add_paragraph(strip_links(re.sub(r"^\s*[-*]\s+", "", ln)), style="List Bullet")
    elif not ln.strip():
        flush()
    else:
        para.append(strip_links(ln))
    i += 1
flush(); d.save(md_out)

# (b) roff man page (cvs.1): .SH -> Heading 1, .SS -> Heading 2, text -> paragraphs,
#     plus a table of the commands (name | purpose) taken from the ".SS name\(empurpose" lines.
ESC = {r"\(aq": "'", r"\(em": "\u2014", r"\(bu": "\u2022", r"\-": "-", r"\e": "\\",
       r"\&": "", r"\|": "", r"\ ": " ", r"\(lq": "\u201c", r"\(rq": "\u201d"}
def plain(s):
    s = re.sub(r"\\f[BIRPLC]|\\f\(..|\\s[+-]?\d", "", s)
    for k, v in ESC.items(): s = s.replace(k, v)
    return s.strip().strip('"')
man = gzip.open(man_path, "rt", encoding="utf-8", errors="replace").read().splitlines()
d = docx.Document(); fixed_props(d, "cvs(1) - Concurrent Versions System")
d.add_heading("cvs(1) \u2014 Concurrent Versions System", level=0)
commands, para, skip = [], [], False
def flush2():
    global para
    if para: d.add_paragraph(" ".join(para)); para = []
for ln in man:
    if ln.startswith(".de"): skip = True; continue
    if skip: skip = ln != ".."; continue
    if ln.startswith('.\\"') or ln.startswith(".IX") or ln.startswith(".TH"): continue
    if ln.startswith(".SH"):
        flush2(); d.add_heading(plain(ln[3:]).split(",")[0], level=1)
    elif ln.startswith(".SS"):
        flush2(); title = plain(ln[3:]); d.add_heading(title, level=2)
        if "\u2014" in title:
            commands.append(title.split("\u2014", 1))
    elif re.match(r"^\.(B|I|BR|RB|BI|IB|IR|RI)\s", ln):
        para.append(plain(re.sub(r"^\.\w+\s", "", ln)).replace('" "', " "))
    elif ln.startswith("."):
        flush2()  # .PP .IP .SP .TP .br .RS ... start a new paragraph
    elif ln.strip():
        para.append(plain(ln))
flush2()
d.add_heading("Summary of CVS commands", level=1)
t = d.add_table(rows=1, cols=2); t.style = "Table Grid"
t.rows[0].cells[0].text, t.rows[0].cells[1].text = "Command", "Purpose"
for name, purpose in commands:
    row = t.add_row().cells; row[0].text, row[1].text = name.strip(), purpose.strip()
d.save(man_out)
PY
derived docx/generated__dpf-features.docx docx "derived from dpf-source=${VERSION[dpf-source]}:/usr/share/dpf/FEATURES.md by python-docx (fetch.sh section 4a)" "Heading 1/2, 22x9 feature table from the Markdown table, bullet list"
derived docx/generated__cvs-manpage.docx docx "derived from cvs=${VERSION[cvs]}:/usr/share/man/man1/cvs.1.gz by python-docx (fetch.sh section 4b)" "man page: .SH/.SS as Heading 1/2, table of the commands at the end"

# --- 5. Encrypted PDFs made with pypdf from real PDFs ------------------------------------
# Owner-password-only copies open in any viewer (empty user password); the locked one needs
# user password "letmein" and is expected to FAIL ingestion with a clear reason.
log "encrypting PDFs with pypdf"
encrypt() {  # encrypt SRC DEST USER_PW ALGORITHM KIND NOTES
  "$PYTHON" - "$STAGE/$1" "$STAGE/$2" "$3" "$4" <<'PY'
import sys
from pypdf import PdfReader, PdfWriter
src, dest, user_pw, algorithm = sys.argv[1:5]
w = PdfWriter(clone_from=PdfReader(src))
w.encrypt(user_password=user_pw, owner_password="owner-secret", algorithm=algorithm)
with open(dest, "wb") as f: w.write(f)
PY
  derived "$2" "$5" "derived from $1 ($(origin_of "$1")) by pypdf encrypt(user_password='$3', owner_password='owner-secret', algorithm=$4)" "$6"
}
encrypt pdf/glpk-doc__glpk.pdf pdf-special/encrypted-aes128__glpk.pdf "" AES-128 pdf-encrypted "owner password only: must ingest; tables"
encrypt pdf/gutenprint-doc__gutenprint-users-manual.pdf pdf-special/encrypted-aes128__gutenprint-users-manual.pdf "" AES-128 pdf-encrypted "owner password only: must ingest; LibreOffice producer"
encrypt pdf/rasmol-doc__refcardA4.pdf pdf-special/encrypted-aes128__rasmol-refcardA4.pdf "" AES-128 pdf-encrypted "owner password only: must ingest; 3-column layout"
encrypt pdf/cvs__cvs-paper.pdf pdf-special/encrypted-aes256__cvs-paper.pdf "" AES-256 pdf-encrypted "owner password only (AES-256, PDF 2.0 handler R6): must ingest"
encrypt pdf/bash-doc__bash.pdf pdf-special/encrypted-rc4-128__bash.pdf "" RC4-128 pdf-encrypted "owner password only (RC4-128): must ingest"
encrypt pdf/xmlformat-doc__xmlformat.pdf pdf-special/locked-userpw__xmlformat.pdf "letmein" AES-128 pdf-locked "needs user password 'letmein': expected to FAIL ingestion with a clear reason"

# --- 6. Image-only ("scanned") PDFs: pdftoppm pages -> JPEG -> img2pdf, no text layer ----
log "rasterising pages for image-only PDFs"
scan() {  # scan SRC FIRST LAST DEST NOTES
  local pre=$WORK/scan-$(basename "$4" .pdf)
  pdftoppm -r 150 -gray -jpeg -jpegopt quality=75 -f "$2" -l "$3" "$STAGE/$1" "$pre"
  img2pdf "$pre"-*.jpg -o "$STAGE/$4"
  derived "$4" pdf-scanned "derived from $1 ($(origin_of "$1")) pages $2-$3 by pdftoppm -r 150 -gray -jpeg + img2pdf" "$5"
}
scan pdf/rasmol-doc__manualA4.pdf 1 3 pdf-special/scanned__rasmol-manual-p1-3.pdf "image only, no text layer: needs OCR or should report no text"
scan pdf/r-cran-rcpp__Rcpp-introduction.pdf 1 2 pdf-special/scanned__Rcpp-introduction-p1-2.pdf "image only, two-column article pages: needs OCR or should report no text"

# --- 7. Corrupt PDF: the first half of a real PDF's bytes --------------------------------
log "truncating a PDF"
src=pdf/python3-pattern__carroll-wonderland.pdf; dest=pdf-special/corrupt-truncated__carroll-wonderland.pdf
head -c $(( $(stat -c %s "$STAGE/$src") / 2 )) "$STAGE/$src" > "$STAGE/$dest"
derived "$dest" pdf-corrupt "derived from $src ($(origin_of "$src")) by head -c (first half of the bytes)" "truncated, no xref/trailer: expected to FAIL alone (pypdf and pdfium both refuse it)"

# --- 8. Verify every file opens, then write the manifest -----------------------------------
log "verifying files and writing the manifest"
"$PYTHON" - "$STAGE" "$ROWS" "$WORK/manifest.tsv" <<'PY'
import csv, hashlib, io, os, sys, warnings, logging
warnings.filterwarnings("ignore"); logging.disable(logging.CRITICAL)
import pypdf, docx, pptx, openpyxl
try:
    import pypdfium2
except ImportError:
    pypdfium2 = None
stage, rows_path, out = sys.argv[1:4]
rows = sorted(csv.reader(open(rows_path, encoding="utf-8"), delimiter="\t"))
problems = []

def units(path, kind):
    if kind.startswith("pdf"):
        try:
            r = pypdf.PdfReader(path)
            if r.is_encrypted and r.decrypt("") == 0:
                if kind != "pdf-locked": problems.append(f"{path}: needs a user password")
                if r.decrypt("letmein") == 0: problems.append(f"{path}: locked but 'letmein' fails")
                return f"{len(r.pages)} pages (user password)"
            if kind == "pdf-locked": problems.append(f"{path}: should need a user password")
            n = len(r.pages)
            text = "".join((r.pages[i].extract_text() or "") for i in range(min(n, 3))).strip()
            if kind == "pdf-scanned" and text: problems.append(f"{path}: scanned PDF has text")
            if kind != "pdf-scanned" and not text: problems.append(f"{path}: no text on first pages")
            if pypdfium2 is not None and kind in ("pdf", "pdf-scanned"):
                m = len(pypdfium2.PdfDocument(path))
                if m != n: problems.append(f"{path}: pypdf {n} pages, pdfium {m}")
            if kind == "pdf-corrupt": problems.append(f"{path}: corrupt PDF opened with pypdf")
            return f"{n} pages"
        except Exception as e:
            if kind != "pdf-corrupt": problems.append(f"{path}: {e!r}")
            return "unreadable"
    if kind == "docx":
        d = docx.Document(path)
        return f"{sum(1 for p in d.paragraphs if p.text.strip())} paragraphs, {len(d.tables)} tables"
    if kind == "pptx":
        return f"{len(pptx.Presentation(path).slides)} slides"
    if kind == "xlsx":
        return f"{len(openpyxl.load_workbook(path, read_only=True).sheetnames)} sheets"
    if kind == "csv":
        return f"{sum(1 for _ in open(path, 'rb'))} lines"
    return ""

with open(out, "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f, delimiter="\t", lineterminator="\n")
    w.writerow(["path", "kind", "origin", "bytes", "sha256", "units", "notes"])
    for rel, kind, origin, notes in rows:
        p = os.path.join(stage, rel)
        data = open(p, "rb").read()
        w.writerow([rel, kind, origin, len(data), hashlib.sha256(data).hexdigest(), units(p, kind), notes])
for p in problems: print("  PROBLEM:", p)
sys.exit(1 if problems else 0)
PY

# --- 9. Compare with the committed manifest (verbatim files must match byte for byte) ----
if [ -f "$HERE/manifest.tsv" ]; then
  "$PYTHON" - "$HERE/manifest.tsv" "$WORK/manifest.tsv" <<'PY'
import csv, sys
load = lambda p: {r["path"]: r for r in csv.DictReader(open(p, encoding="utf-8"), delimiter="\t")}
old, new = load(sys.argv[1]), load(sys.argv[2])
verbatim = [p for p, r in new.items() if not r["origin"].startswith("derived")]
bad = [p for p in verbatim if p not in old or old[p]["sha256"] != new[p]["sha256"]]
drift = sum(1 for p, r in new.items() if r["origin"].startswith("derived") and old.get(p, {}).get("sha256") != r["sha256"])
missing = sorted(set(old) - set(new))
print(f"[fetch.sh] verbatim files matching manifest.tsv: {len(verbatim) - len(bad)}/{len(verbatim)}; "
      f"derived files whose bytes changed (expected: timestamps/random IVs): {drift}")
for p in bad + missing: print("  MISMATCH:", p)
sys.exit(1 if bad or missing else 0)
PY
fi

# --- 10. Swap the new tree into place -------------------------------------------------------
rm -rf "$TARGET"; mv "$STAGE" "$TARGET"; cp "$WORK/manifest.tsv" "$MANIFEST"
log "done: $(find "$TARGET" -type f | wc -l) files, $(du -sh "$TARGET" | cut -f1) in $TARGET; manifest: $MANIFEST"
