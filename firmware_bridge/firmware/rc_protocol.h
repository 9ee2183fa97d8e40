/* GENERATED from firmware_bridge/protocol.toml by firmware_bridge/schema.py. Do not edit. */
#ifndef RC_PROTOCOL_H
#define RC_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#define RC_PROTOCOL_VERSION 1u
/* Encoded frame including the trailing 0x00 delimiter. */
#define RC_MAX_FRAME_BYTES 64u
#define RC_MAX_ENCODED_BYTES 63u
/* header + payload + CRC, before COBS. */
#define RC_MAX_RAW_BYTES 62u
#define RC_HEADER_BYTES 5u
#define RC_CRC_BYTES 2u
#define RC_MAX_PAYLOAD_BYTES 55u
#define RC_BROADCAST_ROBOT_ID 255u

/* NackCode: Why the firmware refused a frame (Nack.code). */
#define RC_NACK_UNKNOWN_TYPE 1u /* message type not known to this firmware */
#define RC_NACK_BAD_LENGTH 2u /* payload length does not match the message layout */
#define RC_NACK_OUT_OF_RANGE 3u /* a field is outside its allowed range; nothing changed */
#define RC_NACK_ESTOP_LATCHED 4u /* motion command refused while the e-stop is latched */
#define RC_NACK_VERSION_MISMATCH 5u /* protocol version differs; Nack.detail carries the firmware's version */
#define RC_NACK_NOT_FOR_FIRMWARE 6u /* message type only flows firmware -> host */

/* FaultFlags: Bit flags in Telemetry.fault_flags and Heartbeat.fault_flags. */
#define RC_FAULT_WATCHDOG 0x0001u /* no valid frame for watchdog_ms: motors forced to zero */
#define RC_FAULT_ESTOP 0x0002u /* e-stop latched: motors at zero until ClearEStop */
#define RC_FAULT_CLAMPED 0x0004u /* the last motion command was clamped to the limits */
#define RC_FAULT_RX_ERRORS 0x0008u /* corrupt frames were received since the last telemetry */
#define RC_FAULT_LOW_BATTERY 0x0010u /* battery below the configured threshold */

/* Capabilities: Bit flags in Hello.capabilities / HelloAck.capabilities. */
#define RC_CAP_WHEEL_COMMAND 0x0001u /* accepts WheelCommand */
#define RC_CAP_VELOCITY_COMMAND 0x0002u /* accepts VelocityCommand */
#define RC_CAP_IMU 0x0004u /* telemetry carries IMU readings */
#define RC_CAP_SET_LIMITS 0x0008u /* accepts SetLimits */

/* Message types. */
#define RC_MSG_HELLO 1u /* Host opens a session; firmware answers HelloAck, or Nack(VERSION_MISMATCH). */
#define RC_MSG_HELLO_ACK 2u /* Firmware identity. */
#define RC_MSG_WHEEL_COMMAND 3u /* Wheel angular velocity setpoints; positive drives forward. */
#define RC_MSG_VELOCITY_COMMAND 4u /* Body twist; the firmware converts it to wheel speeds with its geometry. */
#define RC_MSG_TELEMETRY 5u /* Sent every telemetry period and right after each accepted motion command. */
#define RC_MSG_HEARTBEAT 6u /* Host -> firmware keeps the watchdog fed; firmware answers at once (echo_seq = host seq) and also sends one every second. */
#define RC_MSG_ESTOP 7u /* Latch the emergency stop: motors to zero, motion commands refused. */
#define RC_MSG_CLEAR_ESTOP 8u /* Release the e-stop latch; motors stay at zero until the next motion command. */
#define RC_MSG_SET_LIMITS 9u /* Replace all three limits at once, or none (Nack OUT_OF_RANGE). */
#define RC_MSG_ACK 10u /* The frame (type, seq) was applied. */
#define RC_MSG_NACK 11u /* The frame (type, seq) was refused; code is a NackCode, detail depends on the code. */

#define RC_HELLO_PAYLOAD_BYTES 5u
#define RC_HELLO_ACK_PAYLOAD_BYTES 6u
#define RC_WHEEL_COMMAND_PAYLOAD_BYTES 4u
#define RC_VELOCITY_COMMAND_PAYLOAD_BYTES 4u
#define RC_TELEMETRY_PAYLOAD_BYTES 32u
#define RC_HEARTBEAT_PAYLOAD_BYTES 8u
#define RC_ESTOP_PAYLOAD_BYTES 0u
#define RC_CLEAR_ESTOP_PAYLOAD_BYTES 0u
#define RC_SET_LIMITS_PAYLOAD_BYTES 8u
#define RC_ACK_PAYLOAD_BYTES 3u
#define RC_NACK_PAYLOAD_BYTES 6u

static inline void rc_put_u8(uint8_t *p, uint8_t v) { p[0] = v; }
static inline void rc_put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void rc_put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void rc_put_i16(uint8_t *p, int16_t v) { rc_put_u16(p, (uint16_t)v); }
static inline void rc_put_i32(uint8_t *p, int32_t v) { rc_put_u32(p, (uint32_t)v); }
static inline uint8_t rc_get_u8(const uint8_t *p) { return p[0]; }
static inline uint16_t rc_get_u16(const uint8_t *p) { return (uint16_t)(p[0] | ((uint16_t)p[1] << 8)); }
static inline uint32_t rc_get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
/* Two's complement on the wire; gcc, clang and every MCU compiler map the conversion bit for bit. */
static inline int16_t rc_get_i16(const uint8_t *p) { return (int16_t)rc_get_u16(p); }
static inline int32_t rc_get_i32(const uint8_t *p) { return (int32_t)rc_get_u32(p); }

/* Hello: Host opens a session; firmware answers HelloAck, or Nack(VERSION_MISMATCH). */
typedef struct {
    uint8_t protocol_version;
    uint16_t host_version;
    uint16_t capabilities;
} rc_hello_t;

static inline void rc_pack_hello(const rc_hello_t *m, uint8_t *out) {
    rc_put_u8(out + 0, m->protocol_version);
    rc_put_u16(out + 1, m->host_version);
    rc_put_u16(out + 3, m->capabilities);
}
static inline void rc_unpack_hello(const uint8_t *in, rc_hello_t *m) {
    m->protocol_version = rc_get_u8(in + 0);
    m->host_version = rc_get_u16(in + 1);
    m->capabilities = rc_get_u16(in + 3);
}

/* HelloAck: Firmware identity. */
typedef struct {
    uint8_t protocol_version;
    uint16_t firmware_version;
    uint8_t robot_id;
    uint16_t capabilities;
} rc_hello_ack_t;

static inline void rc_pack_hello_ack(const rc_hello_ack_t *m, uint8_t *out) {
    rc_put_u8(out + 0, m->protocol_version);
    rc_put_u16(out + 1, m->firmware_version);
    rc_put_u8(out + 3, m->robot_id);
    rc_put_u16(out + 4, m->capabilities);
}
static inline void rc_unpack_hello_ack(const uint8_t *in, rc_hello_ack_t *m) {
    m->protocol_version = rc_get_u8(in + 0);
    m->firmware_version = rc_get_u16(in + 1);
    m->robot_id = rc_get_u8(in + 3);
    m->capabilities = rc_get_u16(in + 4);
}

/* WheelCommand: Wheel angular velocity setpoints; positive drives forward. */
typedef struct {
    int16_t left_mrad_s;
    int16_t right_mrad_s;
} rc_wheel_command_t;

static inline void rc_pack_wheel_command(const rc_wheel_command_t *m, uint8_t *out) {
    rc_put_i16(out + 0, m->left_mrad_s);
    rc_put_i16(out + 2, m->right_mrad_s);
}
static inline void rc_unpack_wheel_command(const uint8_t *in, rc_wheel_command_t *m) {
    m->left_mrad_s = rc_get_i16(in + 0);
    m->right_mrad_s = rc_get_i16(in + 2);
}

/* VelocityCommand: Body twist; the firmware converts it to wheel speeds with its geometry. */
typedef struct {
    int16_t v_mm_s;
    int16_t omega_mrad_s;
} rc_velocity_command_t;

static inline void rc_pack_velocity_command(const rc_velocity_command_t *m, uint8_t *out) {
    rc_put_i16(out + 0, m->v_mm_s);
    rc_put_i16(out + 2, m->omega_mrad_s);
}
static inline void rc_unpack_velocity_command(const uint8_t *in, rc_velocity_command_t *m) {
    m->v_mm_s = rc_get_i16(in + 0);
    m->omega_mrad_s = rc_get_i16(in + 2);
}

/* Telemetry: Sent every telemetry period and right after each accepted motion command. */
typedef struct {
    uint32_t time_ms;
    int32_t enc_left_mrad;
    int32_t enc_right_mrad;
    int16_t wheel_left_mrad_s;
    int16_t wheel_right_mrad_s;
    int16_t cmd_left_mrad_s;
    int16_t cmd_right_mrad_s;
    int16_t yaw_rate_mrad_s;
    int16_t accel_x_mm_s2;
    int16_t accel_y_mm_s2;
    uint16_t battery_mv;
    uint16_t fault_flags;
    uint16_t last_cmd_seq;
} rc_telemetry_t;

static inline void rc_pack_telemetry(const rc_telemetry_t *m, uint8_t *out) {
    rc_put_u32(out + 0, m->time_ms);
    rc_put_i32(out + 4, m->enc_left_mrad);
    rc_put_i32(out + 8, m->enc_right_mrad);
    rc_put_i16(out + 12, m->wheel_left_mrad_s);
    rc_put_i16(out + 14, m->wheel_right_mrad_s);
    rc_put_i16(out + 16, m->cmd_left_mrad_s);
    rc_put_i16(out + 18, m->cmd_right_mrad_s);
    rc_put_i16(out + 20, m->yaw_rate_mrad_s);
    rc_put_i16(out + 22, m->accel_x_mm_s2);
    rc_put_i16(out + 24, m->accel_y_mm_s2);
    rc_put_u16(out + 26, m->battery_mv);
    rc_put_u16(out + 28, m->fault_flags);
    rc_put_u16(out + 30, m->last_cmd_seq);
}
static inline void rc_unpack_telemetry(const uint8_t *in, rc_telemetry_t *m) {
    m->time_ms = rc_get_u32(in + 0);
    m->enc_left_mrad = rc_get_i32(in + 4);
    m->enc_right_mrad = rc_get_i32(in + 8);
    m->wheel_left_mrad_s = rc_get_i16(in + 12);
    m->wheel_right_mrad_s = rc_get_i16(in + 14);
    m->cmd_left_mrad_s = rc_get_i16(in + 16);
    m->cmd_right_mrad_s = rc_get_i16(in + 18);
    m->yaw_rate_mrad_s = rc_get_i16(in + 20);
    m->accel_x_mm_s2 = rc_get_i16(in + 22);
    m->accel_y_mm_s2 = rc_get_i16(in + 24);
    m->battery_mv = rc_get_u16(in + 26);
    m->fault_flags = rc_get_u16(in + 28);
    m->last_cmd_seq = rc_get_u16(in + 30);
}

/* Heartbeat: Host -> firmware keeps the watchdog fed; firmware answers at once (echo_seq = host seq) and also sends one every second. */
typedef struct {
    uint32_t time_ms;
    uint16_t fault_flags;
    uint16_t echo_seq;
} rc_heartbeat_t;

static inline void rc_pack_heartbeat(const rc_heartbeat_t *m, uint8_t *out) {
    rc_put_u32(out + 0, m->time_ms);
    rc_put_u16(out + 4, m->fault_flags);
    rc_put_u16(out + 6, m->echo_seq);
}
static inline void rc_unpack_heartbeat(const uint8_t *in, rc_heartbeat_t *m) {
    m->time_ms = rc_get_u32(in + 0);
    m->fault_flags = rc_get_u16(in + 4);
    m->echo_seq = rc_get_u16(in + 6);
}

/* SetLimits: Replace all three limits at once, or none (Nack OUT_OF_RANGE). */
typedef struct {
    uint16_t max_wheel_mrad_s;
    uint32_t max_accel_mrad_s2;
    uint16_t watchdog_ms;
} rc_set_limits_t;

static inline void rc_pack_set_limits(const rc_set_limits_t *m, uint8_t *out) {
    rc_put_u16(out + 0, m->max_wheel_mrad_s);
    rc_put_u32(out + 2, m->max_accel_mrad_s2);
    rc_put_u16(out + 6, m->watchdog_ms);
}
static inline void rc_unpack_set_limits(const uint8_t *in, rc_set_limits_t *m) {
    m->max_wheel_mrad_s = rc_get_u16(in + 0);
    m->max_accel_mrad_s2 = rc_get_u32(in + 2);
    m->watchdog_ms = rc_get_u16(in + 6);
}

/* Ack: The frame (type, seq) was applied. */
typedef struct {
    uint8_t acked_type;
    uint16_t acked_seq;
} rc_ack_t;

static inline void rc_pack_ack(const rc_ack_t *m, uint8_t *out) {
    rc_put_u8(out + 0, m->acked_type);
    rc_put_u16(out + 1, m->acked_seq);
}
static inline void rc_unpack_ack(const uint8_t *in, rc_ack_t *m) {
    m->acked_type = rc_get_u8(in + 0);
    m->acked_seq = rc_get_u16(in + 1);
}

/* Nack: The frame (type, seq) was refused; code is a NackCode, detail depends on the code. */
typedef struct {
    uint8_t acked_type;
    uint16_t acked_seq;
    uint8_t code;
    uint16_t detail;
} rc_nack_t;

static inline void rc_pack_nack(const rc_nack_t *m, uint8_t *out) {
    rc_put_u8(out + 0, m->acked_type);
    rc_put_u16(out + 1, m->acked_seq);
    rc_put_u8(out + 3, m->code);
    rc_put_u16(out + 4, m->detail);
}
static inline void rc_unpack_nack(const uint8_t *in, rc_nack_t *m) {
    m->acked_type = rc_get_u8(in + 0);
    m->acked_seq = rc_get_u16(in + 1);
    m->code = rc_get_u8(in + 3);
    m->detail = rc_get_u16(in + 4);
}

/* Payload length of a message type, or -1 when the type is unknown. */
static inline int rc_payload_bytes(uint8_t msg_type) {
    switch (msg_type) {
    case RC_MSG_HELLO: return (int)RC_HELLO_PAYLOAD_BYTES;
    case RC_MSG_HELLO_ACK: return (int)RC_HELLO_ACK_PAYLOAD_BYTES;
    case RC_MSG_WHEEL_COMMAND: return (int)RC_WHEEL_COMMAND_PAYLOAD_BYTES;
    case RC_MSG_VELOCITY_COMMAND: return (int)RC_VELOCITY_COMMAND_PAYLOAD_BYTES;
    case RC_MSG_TELEMETRY: return (int)RC_TELEMETRY_PAYLOAD_BYTES;
    case RC_MSG_HEARTBEAT: return (int)RC_HEARTBEAT_PAYLOAD_BYTES;
    case RC_MSG_ESTOP: return (int)RC_ESTOP_PAYLOAD_BYTES;
    case RC_MSG_CLEAR_ESTOP: return (int)RC_CLEAR_ESTOP_PAYLOAD_BYTES;
    case RC_MSG_SET_LIMITS: return (int)RC_SET_LIMITS_PAYLOAD_BYTES;
    case RC_MSG_ACK: return (int)RC_ACK_PAYLOAD_BYTES;
    case RC_MSG_NACK: return (int)RC_NACK_PAYLOAD_BYTES;
    default: return -1;
    }
}

#ifdef RC_PROTOCOL_DESCRIPTORS
/* Field tables for host tools and tests (kept out of firmware builds to save flash). */
typedef struct {
    const char *name;
    uint8_t offset;
    uint8_t size;
    uint8_t is_signed;
} rc_field_desc_t;
typedef struct {
    uint8_t msg_type;
    const char *name;
    uint8_t payload_bytes;
    uint8_t n_fields;
    const rc_field_desc_t *fields;
} rc_msg_desc_t;

static const rc_field_desc_t rc_fields_hello[] = {
    {"protocol_version", 0u, 1u, 0u},
    {"host_version", 1u, 2u, 0u},
    {"capabilities", 3u, 2u, 0u},
};
static const rc_field_desc_t rc_fields_hello_ack[] = {
    {"protocol_version", 0u, 1u, 0u},
    {"firmware_version", 1u, 2u, 0u},
    {"robot_id", 3u, 1u, 0u},
    {"capabilities", 4u, 2u, 0u},
};
static const rc_field_desc_t rc_fields_wheel_command[] = {
    {"left_mrad_s", 0u, 2u, 1u},
    {"right_mrad_s", 2u, 2u, 1u},
};
static const rc_field_desc_t rc_fields_velocity_command[] = {
    {"v_mm_s", 0u, 2u, 1u},
    {"omega_mrad_s", 2u, 2u, 1u},
};
static const rc_field_desc_t rc_fields_telemetry[] = {
    {"time_ms", 0u, 4u, 0u},
    {"enc_left_mrad", 4u, 4u, 1u},
    {"enc_right_mrad", 8u, 4u, 1u},
    {"wheel_left_mrad_s", 12u, 2u, 1u},
    {"wheel_right_mrad_s", 14u, 2u, 1u},
    {"cmd_left_mrad_s", 16u, 2u, 1u},
    {"cmd_right_mrad_s", 18u, 2u, 1u},
    {"yaw_rate_mrad_s", 20u, 2u, 1u},
    {"accel_x_mm_s2", 22u, 2u, 1u},
    {"accel_y_mm_s2", 24u, 2u, 1u},
    {"battery_mv", 26u, 2u, 0u},
    {"fault_flags", 28u, 2u, 0u},
    {"last_cmd_seq", 30u, 2u, 0u},
};
static const rc_field_desc_t rc_fields_heartbeat[] = {
    {"time_ms", 0u, 4u, 0u},
    {"fault_flags", 4u, 2u, 0u},
    {"echo_seq", 6u, 2u, 0u},
};
static const rc_field_desc_t rc_fields_set_limits[] = {
    {"max_wheel_mrad_s", 0u, 2u, 0u},
    {"max_accel_mrad_s2", 2u, 4u, 0u},
    {"watchdog_ms", 6u, 2u, 0u},
};
static const rc_field_desc_t rc_fields_ack[] = {
    {"acked_type", 0u, 1u, 0u},
    {"acked_seq", 1u, 2u, 0u},
};
static const rc_field_desc_t rc_fields_nack[] = {
    {"acked_type", 0u, 1u, 0u},
    {"acked_seq", 1u, 2u, 0u},
    {"code", 3u, 1u, 0u},
    {"detail", 4u, 2u, 0u},
};
static const rc_msg_desc_t rc_msg_descs[] = {
    {RC_MSG_HELLO, "Hello", 5u, 3u, rc_fields_hello},
    {RC_MSG_HELLO_ACK, "HelloAck", 6u, 4u, rc_fields_hello_ack},
    {RC_MSG_WHEEL_COMMAND, "WheelCommand", 4u, 2u, rc_fields_wheel_command},
    {RC_MSG_VELOCITY_COMMAND, "VelocityCommand", 4u, 2u, rc_fields_velocity_command},
    {RC_MSG_TELEMETRY, "Telemetry", 32u, 13u, rc_fields_telemetry},
    {RC_MSG_HEARTBEAT, "Heartbeat", 8u, 3u, rc_fields_heartbeat},
    {RC_MSG_ESTOP, "EStop", 0u, 0u, NULL},
    {RC_MSG_CLEAR_ESTOP, "ClearEStop", 0u, 0u, NULL},
    {RC_MSG_SET_LIMITS, "SetLimits", 8u, 3u, rc_fields_set_limits},
    {RC_MSG_ACK, "Ack", 3u, 2u, rc_fields_ack},
    {RC_MSG_NACK, "Nack", 6u, 4u, rc_fields_nack},
};
#define RC_N_MSG_DESCS 11u
#endif /* RC_PROTOCOL_DESCRIPTORS */

#endif /* RC_PROTOCOL_H */
