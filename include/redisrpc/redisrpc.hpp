#pragma once
/// @file
/// Everything: `#include <redisrpc/redisrpc.hpp>`.

#include <redisrpc/client.hpp>
#include <redisrpc/cluster.hpp>
#include <redisrpc/convert.hpp>
#include <redisrpc/dispatcher.hpp>
#include <redisrpc/error.hpp>
#include <redisrpc/expose.hpp>
#include <redisrpc/log.hpp>
#include <redisrpc/options.hpp>
#include <redisrpc/server.hpp>
#include <redisrpc/version.hpp>
