#include "rc_firmware.h"

#include <string.h>

#define RC_MIN_WATCHDOG_MS 10u
#define RC_MAX_WATCHDOG_MS 10000u

void rc_config_default(rc_config_t *config, uint8_t robot_id) {
    memset(config, 0, sizeof(*config));
    config->robot_id = robot_id;
    config->wheel_radius_um = 35000u;
    config->track_width_um = 200000u;
    config->hard_max_wheel_mrad_s = 30000;
    config->hard_max_accel_mrad_s2 = 1000000;
    config->limits.max_wheel_mrad_s = 20000;
    config->limits.max_accel_mrad_s2 = 60000;
    config->limits.watchdog_ms = 200u;
    config->telemetry_period_ms = 20u;
    config->heartbeat_period_ms = 1000u;
    config->low_battery_mv = 6400u; /* 2S Li-ion at 3.2 V per cell */
}

void rc_fw_init(rc_fw_t *fw, const rc_config_t *config, const rc_hal_t *hal, uint32_t now_ms) {
    memset(fw, 0, sizeof(*fw));
    fw->config = *config;
    fw->hal = *hal;
    fw->limits = config->limits;
    rc_parser_init(&fw->parser);
    fw->last_valid_rx_ms = now_ms;
    fw->last_tick_ms = now_ms;
    fw->last_telemetry_ms = now_ms;
    fw->last_heartbeat_ms = now_ms;
    fw->hal.motor_set(fw->hal.ctx, 0, 0);
}

static int16_t sat16(int32_t v) {
    if (v > INT16_MAX) {
        return INT16_MAX;
    }
    if (v < INT16_MIN) {
        return INT16_MIN;
    }
    return (int16_t)v;
}

static int32_t clamp_abs(int32_t v, int32_t limit) {
    if (v > limit) {
        return limit;
    }
    if (v < -limit) {
        return -limit;
    }
    return v;
}

/* Integer division rounded to nearest (halves away from zero); den > 0. */
static int64_t div_round(int64_t num, int64_t den) {
    return num >= 0 ? (num + den / 2) / den : -((-num + den / 2) / den);
}

static void send_frame(rc_fw_t *fw, uint8_t msg_type, const uint8_t *payload, size_t payload_len) {
    uint8_t out[RC_MAX_FRAME_BYTES];
    rc_header_t header;
    size_t n;
    header.version = RC_PROTOCOL_VERSION;
    header.msg_type = msg_type;
    header.robot_id = fw->config.robot_id;
    header.seq = fw->tx_seq++;
    n = rc_frame_encode(&header, payload, payload_len, out, sizeof(out));
    if (n == 0 || fw->hal.uart_write(fw->hal.ctx, out, n) < n) {
        fw->counters.tx_dropped++;
        return;
    }
    fw->counters.tx_frames++;
}

static void send_nack(rc_fw_t *fw, const rc_header_t *about, uint8_t code, uint16_t detail) {
    uint8_t payload[RC_NACK_PAYLOAD_BYTES];
    rc_nack_t nack;
    nack.acked_type = about->msg_type;
    nack.acked_seq = about->seq;
    nack.code = code;
    nack.detail = detail;
    rc_pack_nack(&nack, payload);
    fw->counters.nacks_sent++;
    send_frame(fw, RC_MSG_NACK, payload, sizeof(payload));
}

static void send_ack(rc_fw_t *fw, const rc_header_t *about) {
    uint8_t payload[RC_ACK_PAYLOAD_BYTES];
    rc_ack_t ack;
    ack.acked_type = about->msg_type;
    ack.acked_seq = about->seq;
    rc_pack_ack(&ack, payload);
    send_frame(fw, RC_MSG_ACK, payload, sizeof(payload));
}

static void send_telemetry(rc_fw_t *fw, uint32_t now_ms) {
    uint8_t payload[RC_TELEMETRY_PAYLOAD_BYTES];
    rc_telemetry_t t;
    rc_encoders_t enc;
    rc_imu_t imu;
    memset(&enc, 0, sizeof(enc));
    memset(&imu, 0, sizeof(imu));
    fw->hal.encoder_read(fw->hal.ctx, &enc);
    fw->hal.imu_read(fw->hal.ctx, &imu);
    if (fw->rx_errors_since_telemetry) {
        fw->fault_flags |= RC_FAULT_RX_ERRORS;
    } else {
        fw->fault_flags &= (uint16_t)~RC_FAULT_RX_ERRORS;
    }
    fw->rx_errors_since_telemetry = 0;
    t.time_ms = now_ms;
    t.enc_left_mrad = enc.angle_mrad[0];
    t.enc_right_mrad = enc.angle_mrad[1];
    t.wheel_left_mrad_s = sat16(enc.speed_mrad_s[0]);
    t.wheel_right_mrad_s = sat16(enc.speed_mrad_s[1]);
    t.cmd_left_mrad_s = sat16(fw->target_mrad_s[0]);
    t.cmd_right_mrad_s = sat16(fw->target_mrad_s[1]);
    t.yaw_rate_mrad_s = sat16(imu.yaw_rate_mrad_s);
    t.accel_x_mm_s2 = sat16(imu.accel_x_mm_s2);
    t.accel_y_mm_s2 = sat16(imu.accel_y_mm_s2);
    t.battery_mv = fw->hal.battery_read_mv(fw->hal.ctx);
    t.fault_flags = fw->fault_flags;
    t.last_cmd_seq = fw->last_cmd_seq;
    rc_pack_telemetry(&t, payload);
    fw->last_telemetry_ms = now_ms;
    send_frame(fw, RC_MSG_TELEMETRY, payload, sizeof(payload));
}

static void send_heartbeat(rc_fw_t *fw, uint32_t now_ms) {
    uint8_t payload[RC_HEARTBEAT_PAYLOAD_BYTES];
    rc_heartbeat_t hb;
    hb.time_ms = now_ms;
    hb.fault_flags = fw->fault_flags;
    hb.echo_seq = fw->last_host_heartbeat_seq;
    rc_pack_heartbeat(&hb, payload);
    fw->last_heartbeat_ms = now_ms;
    send_frame(fw, RC_MSG_HEARTBEAT, payload, sizeof(payload));
}

static void stop_motors_now(rc_fw_t *fw) {
    fw->target_mrad_s[0] = fw->target_mrad_s[1] = 0;
    fw->output_mrad_s[0] = fw->output_mrad_s[1] = 0;
    fw->hal.motor_set(fw->hal.ctx, 0, 0);
}

static void handle_motion(rc_fw_t *fw, const rc_header_t *h, int32_t left_mrad_s, int32_t right_mrad_s,
                          uint32_t now_ms) {
    int32_t limit = fw->limits.max_wheel_mrad_s;
    int32_t left = clamp_abs(left_mrad_s, limit);
    int32_t right = clamp_abs(right_mrad_s, limit);
    if (fw->estop_latched) {
        send_nack(fw, h, RC_NACK_ESTOP_LATCHED, 0);
        return;
    }
    if (left != left_mrad_s || right != right_mrad_s) {
        fw->fault_flags |= RC_FAULT_CLAMPED;
        fw->counters.clamped_commands++;
    } else {
        fw->fault_flags &= (uint16_t)~RC_FAULT_CLAMPED;
    }
    fw->target_mrad_s[0] = left;
    fw->target_mrad_s[1] = right;
    fw->last_cmd_seq = h->seq;
    /* Telemetry doubles as the command's acknowledgement: it carries last_cmd_seq and the
     * clamped setpoint, so the host measures round trips without an extra Ack frame. */
    send_telemetry(fw, now_ms);
}

static void handle_velocity(rc_fw_t *fw, const rc_header_t *h, const rc_velocity_command_t *cmd,
                            uint32_t now_ms) {
    /* v [mm/s] * 1000 = [um/s]; omega [mrad/s] * half track [um] / 1000 = [um/s];
     * wheel [mrad/s] = rim speed [um/s] * 1000 / radius [um]. int64 keeps every product exact. */
    int64_t v_um_s = (int64_t)cmd->v_mm_s * 1000;
    int64_t turn_um_s = div_round((int64_t)cmd->omega_mrad_s * (int64_t)(fw->config.track_width_um / 2u), 1000);
    int64_t radius_um = (int64_t)fw->config.wheel_radius_um;
    int64_t left = div_round((v_um_s - turn_um_s) * 1000, radius_um);
    int64_t right = div_round((v_um_s + turn_um_s) * 1000, radius_um);
    /* |result| < 2^31 for any int16 inputs and radius >= 1 mm, so the narrowing is exact. */
    handle_motion(fw, h, (int32_t)left, (int32_t)right, now_ms);
}

static void handle_set_limits(rc_fw_t *fw, const rc_header_t *h, const rc_set_limits_t *m) {
    if (m->max_wheel_mrad_s < 1u || (int32_t)m->max_wheel_mrad_s > fw->config.hard_max_wheel_mrad_s) {
        send_nack(fw, h, RC_NACK_OUT_OF_RANGE, 0);
        return;
    }
    if (m->max_accel_mrad_s2 < 1u || m->max_accel_mrad_s2 > (uint32_t)fw->config.hard_max_accel_mrad_s2) {
        send_nack(fw, h, RC_NACK_OUT_OF_RANGE, 1);
        return;
    }
    if (m->watchdog_ms < RC_MIN_WATCHDOG_MS || m->watchdog_ms > RC_MAX_WATCHDOG_MS) {
        send_nack(fw, h, RC_NACK_OUT_OF_RANGE, 2);
        return;
    }
    fw->limits.max_wheel_mrad_s = (int32_t)m->max_wheel_mrad_s;
    fw->limits.max_accel_mrad_s2 = (int32_t)m->max_accel_mrad_s2;
    fw->limits.watchdog_ms = m->watchdog_ms;
    /* A lower speed limit applies to the command already in force, too. */
    fw->target_mrad_s[0] = clamp_abs(fw->target_mrad_s[0], fw->limits.max_wheel_mrad_s);
    fw->target_mrad_s[1] = clamp_abs(fw->target_mrad_s[1], fw->limits.max_wheel_mrad_s);
    send_ack(fw, h);
}

static void handle_frame(rc_fw_t *fw, uint32_t now_ms) {
    const rc_header_t *h = &fw->parser.header;
    const uint8_t *payload = fw->parser.payload;
    int expected;
    if (h->robot_id != fw->config.robot_id && h->robot_id != RC_BROADCAST_ROBOT_ID) {
        fw->counters.wrong_robot_id++;
        return;
    }
    if (h->version != RC_PROTOCOL_VERSION) {
        /* The payload layout is unknowable; say which version we speak and do nothing else. */
        fw->counters.version_errors++;
        send_nack(fw, h, RC_NACK_VERSION_MISMATCH, RC_PROTOCOL_VERSION);
        return;
    }
    expected = rc_payload_bytes(h->msg_type);
    if (expected < 0) {
        fw->counters.unknown_type++;
        send_nack(fw, h, RC_NACK_UNKNOWN_TYPE, 0);
        return;
    }
    if ((int)fw->parser.payload_len != expected) {
        send_nack(fw, h, RC_NACK_BAD_LENGTH, (uint16_t)expected);
        return;
    }
    fw->counters.rx_frames++;
    fw->last_valid_rx_ms = now_ms;
    if (fw->watchdog_tripped) {
        /* The link is back; the motors stay at zero until the next motion command. */
        fw->watchdog_tripped = 0;
        fw->fault_flags &= (uint16_t)~RC_FAULT_WATCHDOG;
    }
    switch (h->msg_type) {
    case RC_MSG_HELLO: {
        rc_hello_t hello;
        rc_hello_ack_t ack;
        uint8_t out[RC_HELLO_ACK_PAYLOAD_BYTES];
        rc_unpack_hello(payload, &hello);
        if (hello.protocol_version != RC_PROTOCOL_VERSION) {
            fw->counters.version_errors++;
            send_nack(fw, h, RC_NACK_VERSION_MISMATCH, RC_PROTOCOL_VERSION);
            return;
        }
        ack.protocol_version = RC_PROTOCOL_VERSION;
        ack.firmware_version = RC_FIRMWARE_VERSION;
        ack.robot_id = fw->config.robot_id;
        ack.capabilities = RC_CAP_WHEEL_COMMAND | RC_CAP_VELOCITY_COMMAND | RC_CAP_IMU | RC_CAP_SET_LIMITS;
        rc_pack_hello_ack(&ack, out);
        send_frame(fw, RC_MSG_HELLO_ACK, out, sizeof(out));
        return;
    }
    case RC_MSG_WHEEL_COMMAND: {
        rc_wheel_command_t cmd;
        rc_unpack_wheel_command(payload, &cmd);
        handle_motion(fw, h, cmd.left_mrad_s, cmd.right_mrad_s, now_ms);
        return;
    }
    case RC_MSG_VELOCITY_COMMAND: {
        rc_velocity_command_t cmd;
        rc_unpack_velocity_command(payload, &cmd);
        handle_velocity(fw, h, &cmd, now_ms);
        return;
    }
    case RC_MSG_HEARTBEAT:
        fw->last_host_heartbeat_seq = h->seq;
        send_heartbeat(fw, now_ms);
        return;
    case RC_MSG_ESTOP:
        fw->estop_latched = 1;
        fw->fault_flags |= RC_FAULT_ESTOP;
        stop_motors_now(fw);
        send_ack(fw, h);
        return;
    case RC_MSG_CLEAR_ESTOP:
        fw->estop_latched = 0;
        fw->fault_flags &= (uint16_t)~RC_FAULT_ESTOP;
        stop_motors_now(fw);
        send_ack(fw, h);
        return;
    case RC_MSG_SET_LIMITS: {
        rc_set_limits_t limits;
        rc_unpack_set_limits(payload, &limits);
        handle_set_limits(fw, h, &limits);
        return;
    }
    default:
        send_nack(fw, h, RC_NACK_NOT_FOR_FIRMWARE, 0);
        return;
    }
}

void rc_fw_rx(rc_fw_t *fw, const uint8_t *data, size_t len, uint32_t now_ms) {
    size_t i;
    fw->counters.rx_bytes += (uint32_t)len;
    for (i = 0; i < len; ++i) {
        rc_parse_result_t r = rc_parser_feed(&fw->parser, data[i]);
        if (r == RC_PARSE_FRAME) {
            handle_frame(fw, now_ms);
        } else if (r == RC_PARSE_ERROR) {
            fw->rx_errors_since_telemetry = 1;
            if (fw->parser.error == RC_PARSE_ERR_CRC) {
                fw->counters.crc_errors++;
            } else {
                fw->counters.framing_errors++;
            }
        }
    }
}

static int32_t slew(int32_t current, int32_t target, int32_t max_step) {
    if (target > current + max_step) {
        return current + max_step;
    }
    if (target < current - max_step) {
        return current - max_step;
    }
    return target;
}

void rc_fw_tick(rc_fw_t *fw, uint32_t now_ms) {
    uint32_t dt_ms = now_ms - fw->last_tick_ms;
    int64_t step64 = (int64_t)fw->limits.max_accel_mrad_s2 * (int64_t)dt_ms / 1000;
    int32_t max_step = step64 > INT32_MAX ? INT32_MAX : (int32_t)step64;
    fw->last_tick_ms = now_ms;
    if (!fw->watchdog_tripped && now_ms - fw->last_valid_rx_ms >= fw->limits.watchdog_ms) {
        /* Cut, do not ramp: a silent host may be a crashed host. */
        fw->watchdog_tripped = 1;
        fw->fault_flags |= RC_FAULT_WATCHDOG;
        fw->counters.watchdog_trips++;
        stop_motors_now(fw);
    }
    if (fw->estop_latched || fw->watchdog_tripped) {
        fw->output_mrad_s[0] = fw->output_mrad_s[1] = 0;
    } else {
        fw->output_mrad_s[0] = slew(fw->output_mrad_s[0], fw->target_mrad_s[0], max_step);
        fw->output_mrad_s[1] = slew(fw->output_mrad_s[1], fw->target_mrad_s[1], max_step);
    }
    /* Refresh every tick: motor drivers with their own timeout expect a steady stream. */
    fw->hal.motor_set(fw->hal.ctx, fw->output_mrad_s[0], fw->output_mrad_s[1]);
    if (fw->hal.battery_read_mv(fw->hal.ctx) < fw->config.low_battery_mv) {
        fw->fault_flags |= RC_FAULT_LOW_BATTERY;
    } else {
        fw->fault_flags &= (uint16_t)~RC_FAULT_LOW_BATTERY;
    }
    if (now_ms - fw->last_telemetry_ms >= fw->config.telemetry_period_ms) {
        send_telemetry(fw, now_ms);
    }
    if (now_ms - fw->last_heartbeat_ms >= fw->config.heartbeat_period_ms) {
        send_heartbeat(fw, now_ms);
    }
}
