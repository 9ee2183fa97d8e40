/* Framing for the robocoord serial protocol: CRC-16/CCITT-FALSE, COBS, and a byte-wise parser.
 *
 * Wire frame: COBS(header | payload | crc16) 0x00, at most RC_MAX_FRAME_BYTES long. The header and
 * payload fields are little-endian; the CRC alone is sent most significant byte first, so the CRC
 * of an intact frame including its CRC bytes is 0.
 * Pure C99, no allocation: the caller owns every buffer and the parser state.
 */
#ifndef RC_FRAME_H
#define RC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "rc_protocol.h"

typedef struct {
    uint8_t version;
    uint8_t msg_type;
    uint8_t robot_id;
    uint16_t seq;
} rc_header_t;

/* CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor. */
uint16_t rc_crc16(const uint8_t *data, size_t len);

/* COBS-encode len bytes (no delimiter written). Returns the encoded length, 0 if out_cap is too small. */
size_t rc_cobs_encode(const uint8_t *in, size_t len, uint8_t *out, size_t out_cap);

/* COBS-decode one frame body (no delimiter). Returns the decoded length, or -1 if the stuffing is
 * invalid (a zero byte, a code pointing past the end) or out_cap is too small. */
int rc_cobs_decode(const uint8_t *in, size_t len, uint8_t *out, size_t out_cap);

/* Build a complete wire frame (trailing 0x00 included). Returns its length, 0 if it does not fit. */
size_t rc_frame_encode(const rc_header_t *header, const uint8_t *payload, size_t payload_len, uint8_t *out,
                       size_t out_cap);

typedef enum {
    RC_PARSE_NONE = 0,  /* byte consumed, no frame yet */
    RC_PARSE_FRAME = 1, /* a CRC-valid frame is in parser->header / parser->payload */
    RC_PARSE_ERROR = 2  /* bytes up to this delimiter were dropped; parser->error says why */
} rc_parse_result_t;

typedef enum {
    RC_PARSE_ERR_NONE = 0,
    RC_PARSE_ERR_OVERFLOW, /* more bytes than a frame can hold before the delimiter */
    RC_PARSE_ERR_COBS,     /* invalid stuffing */
    RC_PARSE_ERR_SHORT,    /* shorter than header + CRC */
    RC_PARSE_ERR_CRC
} rc_parse_error_t;

typedef struct {
    uint8_t encoded[RC_MAX_ENCODED_BYTES];
    uint8_t raw[RC_MAX_RAW_BYTES];
    uint8_t encoded_len;
    uint8_t overflowed;
    rc_header_t header;        /* valid after RC_PARSE_FRAME */
    const uint8_t *payload;    /* points into raw; valid until the next feed */
    uint8_t payload_len;
    rc_parse_error_t error;    /* valid after RC_PARSE_ERROR */
} rc_parser_t;

void rc_parser_init(rc_parser_t *parser);

/* Feed one received byte. A delimiter ends the current frame; empty frames (0x00 0x00) are ignored,
 * which lets a sender prefix a delimiter to resynchronise a receiver that joined mid-frame. */
rc_parse_result_t rc_parser_feed(rc_parser_t *parser, uint8_t byte);

#endif /* RC_FRAME_H */
