/* Host build of the firmware core for the virtual MCU (loaded from Python with ctypes).
 *
 * The HAL here is plain memory: UART output accumulates in tx[], motor setpoints land in
 * motor_mrad_s[], and the sensors are whatever the plant last wrote with rc_host_set_sensors().
 * The Python side owns the memory (rc_host_sizeof() bytes) and moves data between the plant,
 * the pseudo-terminal and this struct; the core itself is byte-for-byte the firmware's.
 */
#ifndef RC_HOST_H
#define RC_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "rc_firmware.h"

#define RC_HOST_TX_CAP 4096u

typedef struct {
    rc_fw_t fw;
    uint8_t tx[RC_HOST_TX_CAP];
    size_t tx_len;
    int32_t motor_mrad_s[2];
    rc_encoders_t encoders;
    rc_imu_t imu;
    uint16_t battery_mv;
} rc_host_t;

/* Status words, in this order (rc_host_status fills RC_HOST_STATUS_WORDS uint32 values). */
enum {
    RC_STATUS_FAULT_FLAGS = 0,
    RC_STATUS_ESTOP_LATCHED,
    RC_STATUS_TARGET_LEFT,  /* int32 bit pattern */
    RC_STATUS_TARGET_RIGHT,
    RC_STATUS_OUTPUT_LEFT,
    RC_STATUS_OUTPUT_RIGHT,
    RC_STATUS_MAX_WHEEL,
    RC_STATUS_MAX_ACCEL,
    RC_STATUS_WATCHDOG_MS,
    RC_STATUS_LAST_VALID_RX_MS,
    RC_STATUS_RX_BYTES,
    RC_STATUS_RX_FRAMES,
    RC_STATUS_CRC_ERRORS,
    RC_STATUS_FRAMING_ERRORS,
    RC_STATUS_WRONG_ROBOT_ID,
    RC_STATUS_VERSION_ERRORS,
    RC_STATUS_UNKNOWN_TYPE,
    RC_STATUS_NACKS_SENT,
    RC_STATUS_TX_FRAMES,
    RC_STATUS_TX_DROPPED,
    RC_STATUS_WATCHDOG_TRIPS,
    RC_STATUS_CLAMPED_COMMANDS,
    RC_HOST_STATUS_WORDS
};

size_t rc_host_sizeof(void);
uint32_t rc_host_status_words(void);
uint32_t rc_host_protocol_version(void);
/* Init with rc_config_default(robot_id); telemetry_period_ms 0 keeps the default. */
void rc_host_init(rc_host_t *host, uint8_t robot_id, uint16_t telemetry_period_ms, uint32_t now_ms);
/* Sensor values in SI units (rad, rad/s, m/s^2); converted here to the firmware's integer units,
 * rounded and saturated, so the Python side makes one call per tick with plain floats. */
void rc_host_set_sensors(rc_host_t *host, double enc_left_rad, double enc_right_rad, double speed_left_rad_s,
                         double speed_right_rad_s, double yaw_rate_rad_s, double accel_x_m_s2, double accel_y_m_s2,
                         uint16_t battery_mv);
void rc_host_rx(rc_host_t *host, const uint8_t *data, size_t len, uint32_t now_ms);
void rc_host_tick(rc_host_t *host, uint32_t now_ms);
/* Move up to cap bytes of pending UART output into out; returns the count. */
size_t rc_host_take_tx(rc_host_t *host, uint8_t *out, size_t cap);
void rc_host_motor(const rc_host_t *host, int32_t *left_mrad_s, int32_t *right_mrad_s);
void rc_host_status(const rc_host_t *host, uint32_t *out);

#endif /* RC_HOST_H */
