#include "rc_frame.h"

#include <string.h>

uint16_t rc_crc16(const uint8_t *data, size_t len) {
    /* Bitwise rather than table-driven: 30 bytes of code instead of 512 bytes of flash, and a
     * 40-byte frame costs well under a millisecond even on an 8-bit AVR. */
    uint16_t crc = 0xFFFFu;
    size_t i;
    for (i = 0; i < len; ++i) {
        int bit;
        crc = (uint16_t)(crc ^ (uint16_t)((unsigned)data[i] << 8));
        for (bit = 0; bit < 8; ++bit) {
            unsigned carry = crc & 0x8000u;
            crc = (uint16_t)((unsigned)crc << 1);
            if (carry) {
                crc = (uint16_t)(crc ^ 0x1021u);
            }
        }
    }
    return crc;
}

size_t rc_cobs_encode(const uint8_t *in, size_t len, uint8_t *out, size_t out_cap) {
    /* Each run of up to 254 non-zero bytes is preceded by a code byte = run length + 1; a code
     * below 0xFF means a zero followed the run in the original data. */
    size_t code_at = 0;
    size_t w = 1;
    uint8_t code = 1;
    size_t r;
    if (out_cap == 0) {
        return 0;
    }
    for (r = 0; r < len; ++r) {
        if (in[r] == 0) {
            out[code_at] = code;
            code_at = w++;
            code = 1;
        } else {
            if (w >= out_cap) {
                return 0;
            }
            out[w++] = in[r];
            ++code;
            if (code == 0xFFu && r + 1 < len) {
                out[code_at] = code;
                code_at = w++;
                code = 1;
            }
        }
        if (w > out_cap) {
            return 0;
        }
    }
    if (code_at >= out_cap) {
        return 0;
    }
    out[code_at] = code;
    return w;
}

int rc_cobs_decode(const uint8_t *in, size_t len, uint8_t *out, size_t out_cap) {
    size_t r = 0;
    size_t w = 0;
    while (r < len) {
        uint8_t code = in[r++];
        uint8_t i;
        if (code == 0 || r + (size_t)code - 1u > len) {
            return -1;
        }
        for (i = 1; i < code; ++i) {
            if (in[r] == 0 || w >= out_cap) {
                return -1;
            }
            out[w++] = in[r++];
        }
        /* The implicit zero after a run, except after a full 254-byte run or at the very end. */
        if (code != 0xFFu && r < len) {
            if (w >= out_cap) {
                return -1;
            }
            out[w++] = 0;
        }
    }
    return (int)w;
}

size_t rc_frame_encode(const rc_header_t *header, const uint8_t *payload, size_t payload_len, uint8_t *out,
                       size_t out_cap) {
    uint8_t raw[RC_MAX_RAW_BYTES];
    size_t raw_len = RC_HEADER_BYTES + payload_len + RC_CRC_BYTES;
    size_t encoded_len;
    uint16_t crc;
    if (payload_len > RC_MAX_PAYLOAD_BYTES) {
        return 0;
    }
    raw[0] = header->version;
    raw[1] = header->msg_type;
    raw[2] = header->robot_id;
    rc_put_u16(&raw[3], header->seq);
    if (payload_len > 0) {
        memcpy(&raw[RC_HEADER_BYTES], payload, payload_len);
    }
    crc = rc_crc16(raw, RC_HEADER_BYTES + payload_len);
    /* Most significant byte first: the CRC over the whole frame then comes out as 0. */
    raw[RC_HEADER_BYTES + payload_len] = (uint8_t)(crc >> 8);
    raw[RC_HEADER_BYTES + payload_len + 1u] = (uint8_t)crc;
    if (out_cap < 1) {
        return 0;
    }
    encoded_len = rc_cobs_encode(raw, raw_len, out, out_cap - 1);
    if (encoded_len == 0) {
        return 0;
    }
    out[encoded_len] = 0;
    return encoded_len + 1;
}

void rc_parser_init(rc_parser_t *parser) {
    memset(parser, 0, sizeof(*parser));
}

static rc_parse_result_t finish_frame(rc_parser_t *p) {
    int raw_len = rc_cobs_decode(p->encoded, p->encoded_len, p->raw, sizeof(p->raw));
    if (raw_len < 0) {
        p->error = RC_PARSE_ERR_COBS;
        return RC_PARSE_ERROR;
    }
    if (raw_len < (int)(RC_HEADER_BYTES + RC_CRC_BYTES)) {
        p->error = RC_PARSE_ERR_SHORT;
        return RC_PARSE_ERROR;
    }
    if (rc_crc16(p->raw, (size_t)raw_len) != 0u) { /* CRC over data + its own CRC (MSB first) */
        p->error = RC_PARSE_ERR_CRC;
        return RC_PARSE_ERROR;
    }
    p->header.version = p->raw[0];
    p->header.msg_type = p->raw[1];
    p->header.robot_id = p->raw[2];
    p->header.seq = rc_get_u16(&p->raw[3]);
    p->payload = &p->raw[RC_HEADER_BYTES];
    p->payload_len = (uint8_t)((size_t)raw_len - RC_HEADER_BYTES - RC_CRC_BYTES);
    p->error = RC_PARSE_ERR_NONE;
    return RC_PARSE_FRAME;
}

rc_parse_result_t rc_parser_feed(rc_parser_t *p, uint8_t byte) {
    rc_parse_result_t result;
    if (byte != 0) {
        if (p->encoded_len < sizeof(p->encoded)) {
            p->encoded[p->encoded_len++] = byte;
        } else {
            p->overflowed = 1; /* keep discarding until the next delimiter */
        }
        return RC_PARSE_NONE;
    }
    if (p->overflowed) {
        p->error = RC_PARSE_ERR_OVERFLOW;
        result = RC_PARSE_ERROR;
    } else if (p->encoded_len == 0) {
        result = RC_PARSE_NONE;
    } else {
        result = finish_frame(p);
    }
    p->encoded_len = 0;
    p->overflowed = 0;
    return result;
}
