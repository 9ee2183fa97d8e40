/* Host unit tests for the firmware core: framing, golden vectors, and command behaviour.
 * Build and run with `make test` in firmware_bridge/firmware. Exit status is the failure count. */
#define RC_PROTOCOL_DESCRIPTORS
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rc_firmware.h"
#include "rc_frame.h"
#include "rc_protocol.h"

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        ++checks;                                                                                            \
        if (!(cond)) {                                                                                       \
            ++failures;                                                                                      \
            fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n", __FILE__, __LINE__, __func__, #cond);           \
        }                                                                                                    \
    } while (0)

#define CHECK_EQ(a, b)                                                                                       \
    do {                                                                                                     \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                                \
        ++checks;                                                                                            \
        if (va_ != vb_) {                                                                                    \
            ++failures;                                                                                      \
            fprintf(stderr, "%s:%d: %s: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, __func__,    \
                    #a, va_, #b, vb_);                                                                       \
        }                                                                                                    \
    } while (0)

/* ------------------------------------------------------------------ test HAL */

typedef struct {
    uint8_t tx[4096];
    size_t tx_len;
    int32_t motor[2];
    int motor_calls;
    rc_encoders_t enc;
    rc_imu_t imu;
    uint16_t battery_mv;
} test_hal_t;

static size_t t_uart_write(void *ctx, const uint8_t *data, size_t len) {
    test_hal_t *h = (test_hal_t *)ctx;
    if (len > sizeof(h->tx) - h->tx_len) {
        return 0;
    }
    memcpy(&h->tx[h->tx_len], data, len);
    h->tx_len += len;
    return len;
}
static void t_motor_set(void *ctx, int32_t l, int32_t r) {
    test_hal_t *h = (test_hal_t *)ctx;
    h->motor[0] = l;
    h->motor[1] = r;
    h->motor_calls++;
}
static void t_encoder_read(void *ctx, rc_encoders_t *out) { *out = ((test_hal_t *)ctx)->enc; }
static void t_imu_read(void *ctx, rc_imu_t *out) { *out = ((test_hal_t *)ctx)->imu; }
static uint16_t t_battery(void *ctx) { return ((test_hal_t *)ctx)->battery_mv; }

static test_hal_t hal_state;
static rc_fw_t fw;

static void setup(uint8_t robot_id, uint32_t now_ms) {
    rc_config_t config;
    rc_hal_t hal;
    memset(&hal_state, 0, sizeof(hal_state));
    hal_state.battery_mv = 7400;
    hal.ctx = &hal_state;
    hal.uart_write = t_uart_write;
    hal.motor_set = t_motor_set;
    hal.encoder_read = t_encoder_read;
    hal.imu_read = t_imu_read;
    hal.battery_read_mv = t_battery;
    rc_config_default(&config, robot_id);
    rc_fw_init(&fw, &config, &hal, now_ms);
}

static void send_to_fw(uint8_t msg_type, uint8_t robot_id, uint16_t seq, const uint8_t *payload, size_t len,
                       uint32_t now_ms) {
    uint8_t frame[RC_MAX_FRAME_BYTES];
    rc_header_t h;
    size_t n;
    h.version = RC_PROTOCOL_VERSION;
    h.msg_type = msg_type;
    h.robot_id = robot_id;
    h.seq = seq;
    n = rc_frame_encode(&h, payload, len, frame, sizeof(frame));
    CHECK(n > 0);
    rc_fw_rx(&fw, frame, n, now_ms);
}

static void send_wheels(int16_t l, int16_t r, uint16_t seq, uint32_t now_ms) {
    rc_wheel_command_t cmd;
    uint8_t p[RC_WHEEL_COMMAND_PAYLOAD_BYTES];
    cmd.left_mrad_s = l;
    cmd.right_mrad_s = r;
    rc_pack_wheel_command(&cmd, p);
    send_to_fw(RC_MSG_WHEEL_COMMAND, fw.config.robot_id, seq, p, sizeof(p), now_ms);
}

/* Decode everything the firmware sent since the last call; returns the count, keeps the last of each type. */
typedef struct {
    int count[256];
    rc_header_t last_header[256];
    uint8_t last_payload[256][RC_MAX_PAYLOAD_BYTES];
} replies_t;

static replies_t replies;

static int drain(void) {
    rc_parser_t p;
    size_t i;
    int n = 0;
    memset(&replies, 0, sizeof(replies));
    rc_parser_init(&p);
    for (i = 0; i < hal_state.tx_len; ++i) {
        rc_parse_result_t r = rc_parser_feed(&p, hal_state.tx[i]);
        CHECK(r != RC_PARSE_ERROR);
        if (r == RC_PARSE_FRAME) {
            replies.count[p.header.msg_type]++;
            replies.last_header[p.header.msg_type] = p.header;
            memcpy(replies.last_payload[p.header.msg_type], p.payload, p.payload_len);
            ++n;
        }
    }
    hal_state.tx_len = 0;
    return n;
}

/* ------------------------------------------------------------------ framing */

static void test_crc_check_value(void) {
    const uint8_t text[] = "123456789";
    CHECK_EQ(rc_crc16(text, 9), 0x29B1); /* the published CCITT-FALSE check value */
}

static void test_cobs_known_encodings(void) {
    uint8_t out[300];
    const uint8_t zero[] = {0x00};
    const uint8_t mixed[] = {0x11, 0x22, 0x00, 0x33};
    CHECK_EQ(rc_cobs_encode(zero, 0, out, sizeof(out)), 1);
    CHECK_EQ(out[0], 0x01);
    CHECK_EQ(rc_cobs_encode(zero, 1, out, sizeof(out)), 2);
    CHECK(out[0] == 0x01 && out[1] == 0x01);
    CHECK_EQ(rc_cobs_encode(mixed, 4, out, sizeof(out)), 5);
    CHECK(out[0] == 0x03 && out[1] == 0x11 && out[2] == 0x22 && out[3] == 0x02 && out[4] == 0x33);
}

static void test_cobs_round_trip_all_lengths(void) {
    uint8_t in[300], enc[310], dec[300];
    size_t len;
    unsigned seed = 12345u;
    for (len = 0; len <= 260; ++len) {
        size_t i, n;
        int m;
        for (i = 0; i < len; ++i) {
            seed = seed * 1103515245u + 12345u;
            in[i] = (uint8_t)((seed >> 16) % 4u == 0u ? 0u : (seed >> 8)); /* plenty of zeros */
        }
        n = rc_cobs_encode(in, len, enc, sizeof(enc));
        CHECK(n >= len + 1);
        CHECK(memchr(enc, 0, n) == NULL);
        m = rc_cobs_decode(enc, n, dec, sizeof(dec));
        CHECK_EQ(m, (long long)len);
        CHECK(memcmp(in, dec, len) == 0);
    }
}

static void test_cobs_rejects_bad_input(void) {
    uint8_t out[16];
    const uint8_t past_end[] = {0x05, 0x11, 0x22};
    const uint8_t inner_zero[] = {0x03, 0x11, 0x00};
    CHECK_EQ(rc_cobs_decode(past_end, 3, out, sizeof(out)), -1);
    CHECK_EQ(rc_cobs_decode(inner_zero, 3, out, sizeof(out)), -1);
    CHECK_EQ(rc_cobs_encode(past_end, 3, out, 2), 0); /* output too small */
}

static void test_worst_case_stuffing_fits(void) {
    /* An all-zero maximum payload stuffs to one code byte per zero: still within 64 bytes. */
    uint8_t payload[RC_MAX_PAYLOAD_BYTES];
    uint8_t frame[RC_MAX_FRAME_BYTES];
    rc_header_t h = {0, 0, 0, 0};
    rc_parser_t p;
    size_t i, n;
    int got = 0;
    memset(payload, 0, sizeof(payload));
    n = rc_frame_encode(&h, payload, sizeof(payload), frame, sizeof(frame));
    CHECK(n > 0 && n <= RC_MAX_FRAME_BYTES);
    rc_parser_init(&p);
    for (i = 0; i < n; ++i) {
        if (rc_parser_feed(&p, frame[i]) == RC_PARSE_FRAME) {
            got = 1;
            CHECK_EQ(p.payload_len, RC_MAX_PAYLOAD_BYTES);
            CHECK(memcmp(p.payload, payload, sizeof(payload)) == 0);
        }
    }
    CHECK(got);
}

static void test_parser_resyncs_after_garbage(void) {
    uint8_t frame[RC_MAX_FRAME_BYTES];
    uint8_t payload[RC_WHEEL_COMMAND_PAYLOAD_BYTES] = {1, 2, 3, 4};
    rc_header_t h = {RC_PROTOCOL_VERSION, RC_MSG_WHEEL_COMMAND, 1, 7};
    rc_parser_t p;
    size_t i, n;
    int frames = 0, errors = 0;
    n = rc_frame_encode(&h, payload, sizeof(payload), frame, sizeof(frame));
    rc_parser_init(&p);
    for (i = 0; i < 200; ++i) { /* no delimiter for longer than any frame */
        CHECK(rc_parser_feed(&p, (uint8_t)(0x5Au + i % 7u)) == RC_PARSE_NONE);
    }
    for (i = 0; i < n; ++i) {
        rc_parse_result_t r = rc_parser_feed(&p, frame[i]);
        errors += r == RC_PARSE_ERROR;
        frames += r == RC_PARSE_FRAME;
    }
    /* The garbage and the first frame ran together: one error at its delimiter. */
    CHECK_EQ(errors, 1);
    CHECK_EQ(frames, 0);
    for (i = 0; i < n; ++i) {
        frames += rc_parser_feed(&p, frame[i]) == RC_PARSE_FRAME;
    }
    CHECK_EQ(frames, 1);
    CHECK_EQ(p.header.seq, 7);
}

/* ------------------------------------------------------------------ golden vectors */

static char golden_text[1 << 16];

static int hex_decode(const char *hex, uint8_t *out, size_t cap) {
    size_t n = 0;
    while (hex[0] != '"' && hex[0] != '\0') {
        unsigned byte;
        if (n >= cap || sscanf(hex, "%2x", &byte) != 1) {
            return -1;
        }
        out[n++] = (uint8_t)byte;
        hex += 2;
    }
    return (int)n;
}

static const char *find_key(const char *line, const char *key) {
    char pattern[64];
    const char *at;
    snprintf(pattern, sizeof(pattern), "\"%s\": ", key);
    at = strstr(line, pattern);
    return at ? at + strlen(pattern) : NULL;
}

static long long int_after(const char *line, const char *key) {
    const char *at = find_key(line, key);
    CHECK(at != NULL);
    return at ? strtoll(at, NULL, 10) : -1;
}

static const rc_msg_desc_t *desc_for(uint8_t msg_type) {
    size_t i;
    for (i = 0; i < RC_N_MSG_DESCS; ++i) {
        if (rc_msg_descs[i].msg_type == msg_type) {
            return &rc_msg_descs[i];
        }
    }
    return NULL;
}

static long long field_value(const uint8_t *payload, const rc_field_desc_t *f) {
    const uint8_t *p = payload + f->offset;
    if (f->size == 1) {
        return rc_get_u8(p);
    }
    if (f->size == 2) {
        return f->is_signed ? (long long)rc_get_i16(p) : (long long)rc_get_u16(p);
    }
    return f->is_signed ? (long long)rc_get_i32(p) : (long long)rc_get_u32(p);
}

static void put_field(uint8_t *payload, const rc_field_desc_t *f, long long value) {
    uint8_t *p = payload + f->offset;
    if (f->size == 1) {
        rc_put_u8(p, (uint8_t)value);
    } else if (f->size == 2) {
        rc_put_u16(p, (uint16_t)(value & 0xFFFF));
    } else {
        rc_put_u32(p, (uint32_t)(value & 0xFFFFFFFFLL));
    }
}

static void check_valid_vector(const char *line) {
    uint8_t frame[128], payload[RC_MAX_PAYLOAD_BYTES], reencoded[RC_MAX_FRAME_BYTES];
    const char *fields = find_key(line, "fields");
    const rc_msg_desc_t *desc = desc_for((uint8_t)int_after(line, "msg_type"));
    int n = hex_decode(find_key(line, "frame") + 1, frame, sizeof(frame));
    rc_parser_t p;
    rc_header_t h;
    int i, frames = 0;
    CHECK(desc != NULL && fields != NULL && n > 0);
    if (desc == NULL || fields == NULL || n <= 0) {
        return;
    }
    rc_parser_init(&p);
    for (i = 0; i < n; ++i) {
        frames += rc_parser_feed(&p, frame[i]) == RC_PARSE_FRAME;
    }
    CHECK_EQ(frames, 1);
    CHECK_EQ(p.header.version, RC_PROTOCOL_VERSION);
    CHECK_EQ(p.header.msg_type, desc->msg_type);
    CHECK_EQ(p.header.robot_id, int_after(line, "robot_id"));
    CHECK_EQ(p.header.seq, int_after(line, "seq"));
    CHECK_EQ(p.payload_len, desc->payload_bytes);
    memset(payload, 0, sizeof(payload));
    for (i = 0; i < desc->n_fields; ++i) {
        const rc_field_desc_t *f = &desc->fields[i];
        long long expected = int_after(fields, f->name);
        CHECK_EQ(field_value(p.payload, f), expected);
        put_field(payload, f, expected);
    }
    /* And the other way: the firmware's encoder produces the identical bytes. */
    h = p.header;
    CHECK_EQ(rc_frame_encode(&h, payload, desc->payload_bytes, reencoded, sizeof(reencoded)), n);
    CHECK(memcmp(reencoded, frame, (size_t)n) == 0);
}

static void check_invalid_vector(const char *line) {
    uint8_t frame[256];
    int n = hex_decode(find_key(line, "frame") + 1, frame, sizeof(frame));
    const char *reason = find_key(line, "reason");
    rc_parser_t p;
    rc_parse_error_t expected = RC_PARSE_ERR_NONE;
    int i, errors = 0, frames = 0;
    CHECK(n > 0 && reason != NULL);
    if (n <= 0 || reason == NULL) {
        return;
    }
    if (strncmp(reason, "\"crc_errors\"", 12) == 0) {
        expected = RC_PARSE_ERR_CRC;
    } else if (strncmp(reason, "\"oversize\"", 10) == 0) {
        expected = RC_PARSE_ERR_OVERFLOW;
    }
    rc_parser_init(&p);
    for (i = 0; i < n; ++i) {
        rc_parse_result_t r = rc_parser_feed(&p, frame[i]);
        frames += r == RC_PARSE_FRAME;
        errors += r == RC_PARSE_ERROR;
    }
    CHECK_EQ(frames, 0);
    CHECK_EQ(errors, 1);
    if (expected != RC_PARSE_ERR_NONE) {
        CHECK_EQ(p.error, expected);
    } else { /* framing_errors: bad stuffing or too short */
        CHECK(p.error == RC_PARSE_ERR_COBS || p.error == RC_PARSE_ERR_SHORT);
    }
}

static void test_golden_vectors(const char *path) {
    FILE *f = fopen(path, "rb");
    size_t len;
    char *line;
    int valid = 0, invalid = 0;
    CHECK(f != NULL);
    if (f == NULL) {
        return;
    }
    len = fread(golden_text, 1, sizeof(golden_text) - 1, f);
    fclose(f);
    golden_text[len] = '\0';
    CHECK_EQ(int_after(golden_text, "protocol_version"), RC_PROTOCOL_VERSION);
    for (line = strtok(golden_text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        if (strstr(line, "\"frame\"") == NULL) {
            continue;
        }
        if (strstr(line, "\"reason\"") != NULL) {
            check_invalid_vector(line);
            ++invalid;
        } else {
            check_valid_vector(line);
            ++valid;
        }
    }
    CHECK(valid >= 11); /* every message type at least once */
    CHECK(invalid >= 4);
    printf("golden vectors: %d valid, %d invalid\n", valid, invalid);
}

/* ------------------------------------------------------------------ firmware behaviour */

static void tick_until(uint32_t from_ms, uint32_t to_ms) {
    uint32_t t;
    for (t = from_ms; t <= to_ms; ++t) {
        rc_fw_tick(&fw, t);
    }
}

static void test_watchdog_zeroes_motors_after_timeout(void) {
    setup(1, 1000);
    send_wheels(5000, 5000, 1, 1000);
    tick_until(1001, 1199);
    CHECK(hal_state.motor[0] > 0);
    CHECK((fw.fault_flags & RC_FAULT_WATCHDOG) == 0);
    rc_fw_tick(&fw, 1200); /* exactly watchdog_ms (200) after the last valid frame */
    CHECK_EQ(hal_state.motor[0], 0);
    CHECK_EQ(hal_state.motor[1], 0);
    CHECK(fw.fault_flags & RC_FAULT_WATCHDOG);
    CHECK_EQ(fw.counters.watchdog_trips, 1);
    /* A valid frame clears the flag but does not restart the motors by itself. */
    send_to_fw(RC_MSG_HEARTBEAT, 1, 2, (const uint8_t *)"\0\0\0\0\0\0\0\0", RC_HEARTBEAT_PAYLOAD_BYTES, 1300);
    tick_until(1301, 1310);
    CHECK((fw.fault_flags & RC_FAULT_WATCHDOG) == 0);
    CHECK_EQ(hal_state.motor[0], 0);
}

static void test_heartbeat_feeds_watchdog_and_is_echoed(void) {
    uint32_t t;
    rc_heartbeat_t hb;
    setup(1, 0);
    send_wheels(3000, 3000, 1, 0);
    for (t = 1; t <= 1000; ++t) {
        if (t % 100 == 0) {
            uint8_t p[RC_HEARTBEAT_PAYLOAD_BYTES] = {0};
            send_to_fw(RC_MSG_HEARTBEAT, 1, (uint16_t)(100 + t / 100), p, sizeof(p), t);
        }
        rc_fw_tick(&fw, t);
    }
    CHECK_EQ(hal_state.motor[0], 3000);
    CHECK_EQ(fw.counters.watchdog_trips, 0);
    drain();
    CHECK(replies.count[RC_MSG_HEARTBEAT] >= 10);
    rc_unpack_heartbeat(replies.last_payload[RC_MSG_HEARTBEAT], &hb);
    CHECK_EQ(hb.echo_seq, 110);
}

static void test_clamping_is_reported(void) {
    rc_telemetry_t t;
    setup(2, 0);
    send_wheels(32000, -25000, 9, 0);
    CHECK_EQ(fw.target_mrad_s[0], 20000);
    CHECK_EQ(fw.target_mrad_s[1], -20000);
    drain();
    CHECK_EQ(replies.count[RC_MSG_TELEMETRY], 1); /* the immediate reply */
    rc_unpack_telemetry(replies.last_payload[RC_MSG_TELEMETRY], &t);
    CHECK_EQ(t.cmd_left_mrad_s, 20000);
    CHECK_EQ(t.cmd_right_mrad_s, -20000);
    CHECK(t.fault_flags & RC_FAULT_CLAMPED);
    CHECK_EQ(t.last_cmd_seq, 9);
    send_wheels(1000, 1000, 10, 1);
    CHECK((fw.fault_flags & RC_FAULT_CLAMPED) == 0);
}

static void test_slew_limit_ramps_output(void) {
    setup(1, 0);
    send_wheels(6000, -6000, 1, 0);
    rc_fw_tick(&fw, 10); /* 60 rad/s^2 * 10 ms = 600 mrad/s */
    CHECK_EQ(hal_state.motor[0], 600);
    CHECK_EQ(hal_state.motor[1], -600);
    tick_until(11, 150);
    CHECK_EQ(hal_state.motor[0], 6000);
}

static void test_estop_latches_until_cleared(void) {
    rc_nack_t nack;
    setup(3, 0);
    send_wheels(5000, 5000, 1, 0);
    tick_until(1, 100);
    send_to_fw(RC_MSG_ESTOP, 3, 2, NULL, 0, 100);
    CHECK_EQ(hal_state.motor[0], 0); /* immediately, not at the next tick */
    drain();
    CHECK_EQ(replies.count[RC_MSG_ACK], 1);
    send_wheels(5000, 5000, 3, 110);
    tick_until(101, 150);
    CHECK_EQ(hal_state.motor[0], 0);
    drain();
    CHECK_EQ(replies.count[RC_MSG_NACK], 1);
    rc_unpack_nack(replies.last_payload[RC_MSG_NACK], &nack);
    CHECK_EQ(nack.code, RC_NACK_ESTOP_LATCHED);
    CHECK_EQ(nack.acked_seq, 3);
    /* Heartbeats and Hello do not clear it. */
    {
        uint8_t p[RC_HELLO_PAYLOAD_BYTES] = {RC_PROTOCOL_VERSION, 0, 1, 0, 0};
        send_to_fw(RC_MSG_HELLO, 3, 4, p, sizeof(p), 150);
    }
    CHECK(fw.estop_latched);
    send_to_fw(RC_MSG_CLEAR_ESTOP, 3, 5, NULL, 0, 160);
    CHECK(!fw.estop_latched);
    CHECK((fw.fault_flags & RC_FAULT_ESTOP) == 0);
    tick_until(161, 170);
    CHECK_EQ(hal_state.motor[0], 0); /* still stopped until a new command */
    send_wheels(1000, 1000, 6, 170);
    tick_until(171, 250);
    CHECK_EQ(hal_state.motor[0], 1000);
}

static void test_set_limits_out_of_range_changes_nothing(void) {
    rc_set_limits_t m;
    rc_nack_t nack;
    uint8_t p[RC_SET_LIMITS_PAYLOAD_BYTES];
    setup(4, 0);
    m.max_wheel_mrad_s = 10000;
    m.max_accel_mrad_s2 = 30000;
    m.watchdog_ms = 5; /* below the minimum */
    rc_pack_set_limits(&m, p);
    send_to_fw(RC_MSG_SET_LIMITS, 4, 1, p, sizeof(p), 0);
    CHECK_EQ(fw.limits.max_wheel_mrad_s, 20000);
    CHECK_EQ(fw.limits.watchdog_ms, 200);
    drain();
    rc_unpack_nack(replies.last_payload[RC_MSG_NACK], &nack);
    CHECK_EQ(nack.code, RC_NACK_OUT_OF_RANGE);
    m.watchdog_ms = 300;
    m.max_wheel_mrad_s = 40000; /* above the hardware limit */
    rc_pack_set_limits(&m, p);
    send_to_fw(RC_MSG_SET_LIMITS, 4, 2, p, sizeof(p), 0);
    CHECK_EQ(fw.limits.max_wheel_mrad_s, 20000);
    m.max_wheel_mrad_s = 10000;
    rc_pack_set_limits(&m, p);
    send_to_fw(RC_MSG_SET_LIMITS, 4, 3, p, sizeof(p), 0);
    CHECK_EQ(fw.limits.max_wheel_mrad_s, 10000);
    CHECK_EQ(fw.limits.max_accel_mrad_s2, 30000);
    CHECK_EQ(fw.limits.watchdog_ms, 300);
    drain();
    CHECK_EQ(replies.count[RC_MSG_ACK], 1);
}

static void test_unknown_type_is_nacked(void) {
    rc_nack_t nack;
    setup(5, 0);
    send_to_fw(0x7E, 5, 11, NULL, 0, 0);
    drain();
    CHECK_EQ(replies.count[RC_MSG_NACK], 1);
    rc_unpack_nack(replies.last_payload[RC_MSG_NACK], &nack);
    CHECK_EQ(nack.code, RC_NACK_UNKNOWN_TYPE);
    CHECK_EQ(nack.acked_type, 0x7E);
    CHECK_EQ(fw.counters.unknown_type, 1);
}

static void test_wrong_robot_id_is_ignored_and_counted(void) {
    setup(6, 0);
    send_to_fw(RC_MSG_ESTOP, 7, 1, NULL, 0, 0);
    CHECK(!fw.estop_latched);
    CHECK_EQ(fw.counters.wrong_robot_id, 1);
    CHECK_EQ(drain(), 0);
    send_to_fw(RC_MSG_ESTOP, RC_BROADCAST_ROBOT_ID, 2, NULL, 0, 0);
    CHECK(fw.estop_latched);
}

static void test_version_mismatch_is_refused(void) {
    uint8_t frame[RC_MAX_FRAME_BYTES];
    uint8_t p[RC_HELLO_PAYLOAD_BYTES] = {RC_PROTOCOL_VERSION + 1u, 0, 1, 0, 0};
    rc_header_t h = {RC_PROTOCOL_VERSION + 1u, RC_MSG_HELLO, 1, 1};
    rc_nack_t nack;
    size_t n;
    setup(1, 0);
    n = rc_frame_encode(&h, p, sizeof(p), frame, sizeof(frame));
    rc_fw_rx(&fw, frame, n, 0);
    drain();
    CHECK_EQ(replies.count[RC_MSG_HELLO_ACK], 0);
    CHECK_EQ(replies.count[RC_MSG_NACK], 1);
    rc_unpack_nack(replies.last_payload[RC_MSG_NACK], &nack);
    CHECK_EQ(nack.code, RC_NACK_VERSION_MISMATCH);
    CHECK_EQ(nack.detail, RC_PROTOCOL_VERSION);
    /* Same header version, but Hello names another protocol version. */
    send_to_fw(RC_MSG_HELLO, 1, 2, p, sizeof(p), 0);
    drain();
    CHECK_EQ(replies.count[RC_MSG_NACK], 1);
    CHECK_EQ(fw.counters.version_errors, 2);
}

static void test_velocity_command_uses_geometry(void) {
    rc_velocity_command_t v;
    uint8_t p[RC_VELOCITY_COMMAND_PAYLOAD_BYTES];
    setup(1, 0);
    v.v_mm_s = 350;        /* 0.35 m/s on 35 mm wheels: 10 rad/s */
    v.omega_mrad_s = 1000; /* 1 rad/s on a 200 mm track: +-0.1 m/s at the wheels: +-2.857 rad/s */
    rc_pack_velocity_command(&v, p);
    send_to_fw(RC_MSG_VELOCITY_COMMAND, 1, 1, p, sizeof(p), 0);
    CHECK_EQ(fw.target_mrad_s[0], 7143);
    CHECK_EQ(fw.target_mrad_s[1], 12857);
}

static void test_corrupt_frame_is_counted_and_dropped(void) {
    uint8_t frame[RC_MAX_FRAME_BYTES];
    uint8_t p[RC_WHEEL_COMMAND_PAYLOAD_BYTES] = {0x10, 0x27, 0x10, 0x27};
    rc_header_t h = {RC_PROTOCOL_VERSION, RC_MSG_WHEEL_COMMAND, 1, 1};
    size_t n;
    setup(1, 0);
    n = rc_frame_encode(&h, p, sizeof(p), frame, sizeof(frame));
    frame[3] ^= 0x04;
    rc_fw_rx(&fw, frame, n, 0);
    CHECK_EQ(fw.counters.crc_errors, 1);
    CHECK_EQ(fw.target_mrad_s[0], 0);
    rc_fw_tick(&fw, 20);
    drain();
    {
        rc_telemetry_t t;
        rc_unpack_telemetry(replies.last_payload[RC_MSG_TELEMETRY], &t);
        CHECK(t.fault_flags & RC_FAULT_RX_ERRORS);
    }
}

static void test_periodic_telemetry_and_time_wrap(void) {
    uint32_t start = 0xFFFFFF00u; /* 256 ms before the uint32 wraps */
    uint32_t t;
    setup(1, start);
    for (t = 0; t <= 1000; ++t) {
        if (t % 50 == 0) {
            uint8_t p[RC_HEARTBEAT_PAYLOAD_BYTES] = {0};
            send_to_fw(RC_MSG_HEARTBEAT, 1, (uint16_t)t, p, sizeof(p), start + t);
        }
        rc_fw_tick(&fw, start + t);
    }
    drain();
    CHECK_EQ(replies.count[RC_MSG_TELEMETRY], 50); /* 20 ms period over 1 s, across the wrap */
    CHECK_EQ(fw.counters.watchdog_trips, 0);
}

int main(int argc, char **argv) {
    const char *golden = argc > 1 ? argv[1] : "tests/golden_vectors.json";
    test_crc_check_value();
    test_cobs_known_encodings();
    test_cobs_round_trip_all_lengths();
    test_cobs_rejects_bad_input();
    test_worst_case_stuffing_fits();
    test_parser_resyncs_after_garbage();
    test_golden_vectors(golden);
    test_watchdog_zeroes_motors_after_timeout();
    test_heartbeat_feeds_watchdog_and_is_echoed();
    test_clamping_is_reported();
    test_slew_limit_ramps_output();
    test_estop_latches_until_cleared();
    test_set_limits_out_of_range_changes_nothing();
    test_unknown_type_is_nacked();
    test_wrong_robot_id_is_ignored_and_counted();
    test_version_mismatch_is_refused();
    test_velocity_command_uses_geometry();
    test_corrupt_frame_is_counted_and_dropped();
    test_periodic_telemetry_and_time_wrap();
    printf("%d checks, %d failures\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
