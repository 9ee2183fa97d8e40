#include "rc_host.h"

#include <string.h>

static size_t host_uart_write(void *ctx, const uint8_t *data, size_t len) {
    rc_host_t *host = (rc_host_t *)ctx;
    if (len > RC_HOST_TX_CAP - host->tx_len) {
        return 0; /* whole frames or nothing, like a UART driver with a frame-sized FIFO check */
    }
    memcpy(&host->tx[host->tx_len], data, len);
    host->tx_len += len;
    return len;
}

static void host_motor_set(void *ctx, int32_t left_mrad_s, int32_t right_mrad_s) {
    rc_host_t *host = (rc_host_t *)ctx;
    host->motor_mrad_s[0] = left_mrad_s;
    host->motor_mrad_s[1] = right_mrad_s;
}

static void host_encoder_read(void *ctx, rc_encoders_t *out) {
    *out = ((rc_host_t *)ctx)->encoders;
}

static void host_imu_read(void *ctx, rc_imu_t *out) {
    *out = ((rc_host_t *)ctx)->imu;
}

static uint16_t host_battery_read_mv(void *ctx) {
    return ((rc_host_t *)ctx)->battery_mv;
}

size_t rc_host_sizeof(void) { return sizeof(rc_host_t); }

uint32_t rc_host_status_words(void) { return RC_HOST_STATUS_WORDS; }

uint32_t rc_host_protocol_version(void) { return RC_PROTOCOL_VERSION; }

void rc_host_init(rc_host_t *host, uint8_t robot_id, uint16_t telemetry_period_ms, uint32_t now_ms) {
    rc_config_t config;
    rc_hal_t hal;
    memset(host, 0, sizeof(*host));
    host->battery_mv = 7400u;
    rc_config_default(&config, robot_id);
    if (telemetry_period_ms != 0u) {
        config.telemetry_period_ms = telemetry_period_ms;
    }
    hal.ctx = host;
    hal.uart_write = host_uart_write;
    hal.motor_set = host_motor_set;
    hal.encoder_read = host_encoder_read;
    hal.imu_read = host_imu_read;
    hal.battery_read_mv = host_battery_read_mv;
    rc_fw_init(&host->fw, &config, &hal, now_ms);
}

/* SI value * 1000, rounded to nearest and saturated to int32 (NaN reads as 0). */
static int32_t milli(double si) {
    double scaled = si * 1000.0;
    if (!(scaled == scaled)) {
        return 0;
    }
    if (scaled >= 2147483647.0) {
        return INT32_MAX;
    }
    if (scaled <= -2147483648.0) {
        return INT32_MIN;
    }
    return (int32_t)(scaled >= 0.0 ? scaled + 0.5 : scaled - 0.5);
}

void rc_host_set_sensors(rc_host_t *host, double enc_left_rad, double enc_right_rad, double speed_left_rad_s,
                         double speed_right_rad_s, double yaw_rate_rad_s, double accel_x_m_s2, double accel_y_m_s2,
                         uint16_t battery_mv) {
    host->encoders.angle_mrad[0] = milli(enc_left_rad);
    host->encoders.angle_mrad[1] = milli(enc_right_rad);
    host->encoders.speed_mrad_s[0] = milli(speed_left_rad_s);
    host->encoders.speed_mrad_s[1] = milli(speed_right_rad_s);
    host->imu.yaw_rate_mrad_s = milli(yaw_rate_rad_s);
    host->imu.accel_x_mm_s2 = milli(accel_x_m_s2);
    host->imu.accel_y_mm_s2 = milli(accel_y_m_s2);
    host->battery_mv = battery_mv;
}

void rc_host_rx(rc_host_t *host, const uint8_t *data, size_t len, uint32_t now_ms) {
    rc_fw_rx(&host->fw, data, len, now_ms);
}

void rc_host_tick(rc_host_t *host, uint32_t now_ms) { rc_fw_tick(&host->fw, now_ms); }

size_t rc_host_take_tx(rc_host_t *host, uint8_t *out, size_t cap) {
    size_t n = host->tx_len < cap ? host->tx_len : cap;
    memcpy(out, host->tx, n);
    memmove(host->tx, &host->tx[n], host->tx_len - n);
    host->tx_len -= n;
    return n;
}

void rc_host_motor(const rc_host_t *host, int32_t *left_mrad_s, int32_t *right_mrad_s) {
    *left_mrad_s = host->motor_mrad_s[0];
    *right_mrad_s = host->motor_mrad_s[1];
}

void rc_host_status(const rc_host_t *host, uint32_t *out) {
    const rc_fw_t *fw = &host->fw;
    out[RC_STATUS_FAULT_FLAGS] = fw->fault_flags;
    out[RC_STATUS_ESTOP_LATCHED] = fw->estop_latched;
    out[RC_STATUS_TARGET_LEFT] = (uint32_t)fw->target_mrad_s[0];
    out[RC_STATUS_TARGET_RIGHT] = (uint32_t)fw->target_mrad_s[1];
    out[RC_STATUS_OUTPUT_LEFT] = (uint32_t)fw->output_mrad_s[0];
    out[RC_STATUS_OUTPUT_RIGHT] = (uint32_t)fw->output_mrad_s[1];
    out[RC_STATUS_MAX_WHEEL] = (uint32_t)fw->limits.max_wheel_mrad_s;
    out[RC_STATUS_MAX_ACCEL] = (uint32_t)fw->limits.max_accel_mrad_s2;
    out[RC_STATUS_WATCHDOG_MS] = fw->limits.watchdog_ms;
    out[RC_STATUS_LAST_VALID_RX_MS] = fw->last_valid_rx_ms;
    out[RC_STATUS_RX_BYTES] = fw->counters.rx_bytes;
    out[RC_STATUS_RX_FRAMES] = fw->counters.rx_frames;
    out[RC_STATUS_CRC_ERRORS] = fw->counters.crc_errors;
    out[RC_STATUS_FRAMING_ERRORS] = fw->counters.framing_errors;
    out[RC_STATUS_WRONG_ROBOT_ID] = fw->counters.wrong_robot_id;
    out[RC_STATUS_VERSION_ERRORS] = fw->counters.version_errors;
    out[RC_STATUS_UNKNOWN_TYPE] = fw->counters.unknown_type;
    out[RC_STATUS_NACKS_SENT] = fw->counters.nacks_sent;
    out[RC_STATUS_TX_FRAMES] = fw->counters.tx_frames;
    out[RC_STATUS_TX_DROPPED] = fw->counters.tx_dropped;
    out[RC_STATUS_WATCHDOG_TRIPS] = fw->counters.watchdog_trips;
    out[RC_STATUS_CLAMPED_COMMANDS] = fw->counters.clamped_commands;
}
