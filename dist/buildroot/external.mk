# SPDX-License-Identifier: MIT
include $(sort $(wildcard $(BR2_EXTERNAL_CHANWIRE_PATH)/package/*/*.mk))
