// Tesseract's C API (Debian's libtesseract-dev 5.x, pkg-config `tesseract`):
// text recognition for ImageDecoding's TesseractTextExtractor.
#include <tesseract/capi.h>
