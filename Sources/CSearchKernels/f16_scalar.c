// Bit-exact IEEE 754 binary32 <-> binary16 conversion, round to nearest even.
// The SIMD variants use the hardware instructions (F16C), which this code
// matches bit for bit, NaN quieting included; the tests check every half value.

#include <string.h>
#include "search_kernels.h"

uint16_t mms_f32_to_f16_scalar(float value) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    const uint32_t sign = (bits >> 16) & 0x8000u;
    const uint32_t magnitude = bits & 0x7fffffffu;

    if (magnitude >= 0x7f800000u) {
        if (magnitude > 0x7f800000u) {
            // NaN: keep the top payload bits, set the quiet bit (as F16C does).
            return (uint16_t)(sign | 0x7e00u | ((magnitude >> 13) & 0x3ffu));
        }
        return (uint16_t)(sign | 0x7c00u);
    }
    // 65520 (0x477ff000) is half way between 65504, the largest half, and
    // 65536; ties go to the even neighbour, which is infinity.
    if (magnitude >= 0x477ff000u) {
        return (uint16_t)(sign | 0x7c00u);
    }
    if (magnitude < 0x38800000u) {
        // Below 2^-14, the smallest normal half: a subnormal half or zero.
        // Anything below 2^-25 rounds to zero (2^-25 itself ties to zero).
        if (magnitude < 0x33000000u) {
            return (uint16_t)sign;
        }
        const uint32_t exponent = magnitude >> 23;          // 102 ... 112
        const uint32_t mantissa = (magnitude & 0x7fffffu) | 0x800000u;
        const uint32_t shift = 126u - exponent;              // 14 ... 24: units of 2^-24
        uint32_t result = mantissa >> shift;
        const uint32_t remainder = mantissa & ((1u << shift) - 1u);
        const uint32_t halfway = 1u << (shift - 1u);
        if (remainder > halfway || (remainder == halfway && (result & 1u))) {
            result += 1u;  // may carry into the smallest normal: still the right encoding
        }
        return (uint16_t)(sign | result);
    }
    // Normal: rebias the exponent (127 -> 15) and round away 13 mantissa bits.
    uint32_t result = (magnitude - 0x38000000u) >> 13;
    const uint32_t remainder = magnitude & 0x1fffu;
    if (remainder > 0x1000u || (remainder == 0x1000u && (result & 1u))) {
        result += 1u;  // a carry into the exponent rounds up correctly, to infinity at the top
    }
    return (uint16_t)(sign | result);
}

float mms_f16_to_f32_scalar(uint16_t half) {
    const uint32_t sign = ((uint32_t)half & 0x8000u) << 16;
    const uint32_t exponent = ((uint32_t)half >> 10) & 0x1fu;
    uint32_t mantissa = (uint32_t)half & 0x3ffu;
    uint32_t bits;
    if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;
        } else {
            // Subnormal half: normalise into a float exponent.
            uint32_t shift = 0;
            while ((mantissa & 0x400u) == 0) {
                mantissa <<= 1;
                shift += 1;
            }
            mantissa &= 0x3ffu;
            bits = sign | ((113u - shift) << 23) | (mantissa << 13);
        }
    } else if (exponent == 31) {
        bits = sign | 0x7f800000u | (mantissa << 13);
        if (mantissa != 0) {
            bits |= 0x400000u;  // quiet a signalling NaN, as F16C does
        }
    } else {
        bits = sign | ((exponent + 112u) << 23) | (mantissa << 13);
    }
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}
