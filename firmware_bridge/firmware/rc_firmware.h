/* robocoord reference firmware core: command handling, watchdog, clamping, e-stop latch.
 *
 * Pure logic, C99, no allocation, no clock reads: the board code owns an rc_fw_t, passes in its
 * HAL (function pointers + context) once, then calls rc_fw_rx() with received bytes and
 * rc_fw_tick() periodically (1 kHz suggested), each with the current time in milliseconds.
 * Time is a wrapping uint32_t; every comparison is a wrap-safe unsigned difference.
 */
#ifndef RC_FIRMWARE_H
#define RC_FIRMWARE_H

#include <stddef.h>
#include <stdint.h>

#include "rc_frame.h"
#include "rc_protocol.h"

#define RC_FIRMWARE_VERSION 0x0100u /* major.minor in the two bytes */

typedef struct {
    int32_t angle_mrad[2];    /* unwrapped encoder angle, (left, right) */
    int32_t speed_mrad_s[2];  /* measured wheel speed, (left, right) */
} rc_encoders_t;

typedef struct {
    int32_t yaw_rate_mrad_s;
    int32_t accel_x_mm_s2; /* body frame, x forward */
    int32_t accel_y_mm_s2; /* body frame, y left */
} rc_imu_t;

/* Everything the core touches outside itself. All pointers are required. */
typedef struct {
    void *ctx;
    /* Queue bytes for the UART; returns how many were accepted (the rest are dropped and counted). */
    size_t (*uart_write)(void *ctx, const uint8_t *data, size_t len);
    /* Wheel speed setpoints for the motor controllers, (left, right). */
    void (*motor_set)(void *ctx, int32_t left_mrad_s, int32_t right_mrad_s);
    void (*encoder_read)(void *ctx, rc_encoders_t *out);
    void (*imu_read)(void *ctx, rc_imu_t *out);
    uint16_t (*battery_read_mv)(void *ctx);
} rc_hal_t;

typedef struct {
    int32_t max_wheel_mrad_s;   /* |setpoint| is clamped to this */
    int32_t max_accel_mrad_s2;  /* setpoint slew limit; stops by watchdog or e-stop are immediate */
    uint16_t watchdog_ms;       /* no valid frame for this long -> motors to zero */
} rc_limits_t;

typedef struct {
    uint8_t robot_id;
    uint32_t wheel_radius_um;
    uint32_t track_width_um;
    int32_t hard_max_wheel_mrad_s;  /* SetLimits may not exceed the hardware's capability */
    int32_t hard_max_accel_mrad_s2;
    rc_limits_t limits;             /* in force after init */
    uint16_t telemetry_period_ms;
    uint16_t heartbeat_period_ms;
    uint16_t low_battery_mv;
} rc_config_t;

/* Counters for diagnostics; they only ever increase (and wrap). */
typedef struct {
    uint32_t rx_bytes;
    uint32_t rx_frames;      /* CRC-valid frames addressed to this robot or broadcast */
    uint32_t crc_errors;
    uint32_t framing_errors; /* bad COBS, too short, overflow */
    uint32_t wrong_robot_id;
    uint32_t version_errors;
    uint32_t unknown_type;
    uint32_t nacks_sent;
    uint32_t tx_frames;
    uint32_t tx_dropped;     /* frames the UART could not take */
    uint32_t watchdog_trips;
    uint32_t clamped_commands;
} rc_counters_t;

typedef struct {
    rc_config_t config;
    rc_hal_t hal;
    rc_parser_t parser;
    rc_limits_t limits;
    rc_counters_t counters;
    int32_t target_mrad_s[2]; /* clamped command */
    int32_t output_mrad_s[2]; /* slew-limited value sent to the motors */
    uint32_t last_valid_rx_ms;
    uint32_t last_tick_ms;
    uint32_t last_telemetry_ms;
    uint32_t last_heartbeat_ms;
    uint16_t fault_flags;
    uint16_t tx_seq;
    uint16_t last_cmd_seq;
    uint16_t last_host_heartbeat_seq;
    uint8_t estop_latched;
    uint8_t watchdog_tripped;
    uint8_t rx_errors_since_telemetry;
} rc_fw_t;

/* Defaults for a ~TurtleBot-class robot: 35 mm wheels, 200 mm track, 20 rad/s, 60 rad/s^2,
 * 200 ms watchdog, 50 Hz telemetry, 1 Hz heartbeat. */
void rc_config_default(rc_config_t *config, uint8_t robot_id);

void rc_fw_init(rc_fw_t *fw, const rc_config_t *config, const rc_hal_t *hal, uint32_t now_ms);

/* Process received bytes; replies (Ack, Nack, Telemetry, Heartbeat) go out through hal.uart_write. */
void rc_fw_rx(rc_fw_t *fw, const uint8_t *data, size_t len, uint32_t now_ms);

/* Periodic work: watchdog, slew limiting, motor output, telemetry and heartbeat. */
void rc_fw_tick(rc_fw_t *fw, uint32_t now_ms);

#endif /* RC_FIRMWARE_H */
