#!/usr/bin/env ruby
# frozen_string_literal: true
#
# Interop peer: behaves on the wire like the original Ruby redisrpc (0.3.x, redis-rb 4.8).
#
# Written from the observations in PROTOCOL.md section 1 (the original code is not used).
# Comments tagged "P1:" name the fact each quirk reproduces.
#
#   classic_peer.rb server --url URL --queue Q [--once N] [--delete-queue]
#   classic_peer.rb client --url URL --queue Q --timeout SECONDS SCRIPT
#
# SCRIPT is calculator | types | kwargs | errors | wire | raw:{"name":..,"args":[..],"kwargs":{..}}.
# The client prints one JSON line per call:
#   {"call":NAME,"ok":true,"value":V,"request":BYTES}
#   {"call":NAME,"ok":false,"kind":"remote"|"timeout","error":TEXT,"request":BYTES}
# and then a last line END.

require 'json'
require 'optparse'
require 'redis'

# ------------------------------------------------------------------------------ served object
# The accumulator is a Float (P1: the Ruby server answers add(5) with {"return_value":5.0}).
class Calculator
  def initialize
    @acc = 0.0
  end

  def clr
    @acc = 0.0
  end

  def add(number)
    @acc += number
  end

  def sub(number)
    @acc -= number
  end

  def mul(number)
    @acc *= number
  end

  def div(number)
    # Float division by zero gives NaN/Infinity in Ruby (and NaN cannot be written as JSON).
    # Raise the error Ruby raises for Integer division, with its native message "divided by 0".
    raise ZeroDivisionError, 'divided by 0' if number.zero?

    @acc /= number
  end

  def val
    @acc
  end

  def echo(value)
    value
  end

  # Ruby keywords arrive as a trailing Hash in "args" (P1); a splat call passes it positionally,
  # so it shows up in args and kwargs stays empty.
  def describe(*args, **kwargs)
    { 'args' => args, 'kwargs' => kwargs }
  end
end

# The original server `send`s any method name (private and Kernel ones included). We reproduce
# only its answers: a fixed lookup table, arguments passed as data.
EXPOSED = {
  'clr' => ->(o, *a) { o.clr(*a) }, 'add' => ->(o, *a) { o.add(*a) },
  'sub' => ->(o, *a) { o.sub(*a) }, 'mul' => ->(o, *a) { o.mul(*a) },
  'div' => ->(o, *a) { o.div(*a) }, 'val' => ->(o, *a) { o.val(*a) },
  'echo' => ->(o, *a) { o.echo(*a) }, 'describe' => ->(o, *a) { o.describe(*a) }
}.freeze

def dispatch(obj, name, args)
  handler = EXPOSED[name]
  # P1: unknown method -> the NoMethodError message Ruby 3.1 gives for a missing method.
  raise NoMethodError.new("undefined method `#{name}' for #{obj.inspect}", name) unless handler

  handler.call(obj, *args)
end

def serve(redis, queue, once, delete_queue)
  redis.del(queue) if delete_queue # P1: `run!` deletes the queue, `run` keeps it
  calc = Calculator.new
  handled = 0
  $stdout.puts 'READY'
  $stdout.flush
  while once.nil? || handled < once
    _, message = redis.blpop(queue, timeout: 0)
    handled += 1
    # P1: a malformed message ends the original server's loop; so does it here (uncaught).
    request = JSON.parse(message)
    response_queue = request['response_queue']
    call = request['function_call']
    begin
      response = { 'return_value' => dispatch(calc, call['name'], call['args'] || []) }
    rescue StandardError => e
      # P1: errors are {"exception":"<message>","backtrace":[...]}
      # Ruby 3.1's error_highlight appends a source snippet to NameError#to_s; the wire carries
      # the plain message, so take the message from before that decoration.
      text = e.respond_to?(:original_message) ? e.original_message : e.to_s
      response = { 'exception' => text, 'backtrace' => e.backtrace }
    end
    # P1: compact JSON with raw UTF-8; pushed in MULTI with EXPIRE <response_queue> 1.
    redis.multi do |tx|
      tx.rpush(response_queue, JSON.generate(response))
      tx.expire(response_queue, 1)
    end
  end
end

# ------------------------------------------------------------------------------------ client
class RemoteError < StandardError; end
class CallTimeout < StandardError; end

ALPHABET = [*'A'..'Z', *'0'..'9'].freeze

class Client
  attr_reader :last_request

  def initialize(redis, queue, timeout)
    @redis = redis
    @queue = queue
    @timeout = timeout
  end

  def call(name, *args, **kwargs)
    args += [kwargs] unless kwargs.empty? # P1: keywords travel as a trailing object in args
    # P1: "args" is always present ([] when none); there is never a "kwargs" member.
    function_call = { 'name' => name, 'args' => args }
    response_queue = "#{@queue}:rpc:#{Array.new(8) { ALPHABET.sample }.join}" # P1: [A-Z0-9]{8}
    # P1: compact JSON, raw UTF-8.
    message = JSON.generate({ 'function_call' => function_call, 'response_queue' => response_queue })
    @last_request = message
    @redis.rpush(@queue, message)
    popped = @redis.blpop(response_queue, timeout: @timeout)
    if popped.nil?
      @redis.lrem(@queue, 0, message) # P1: on timeout the Ruby client withdraws its request
      raise CallTimeout, 'timeout'
    end
    response = JSON.parse(popped[1])
    # PROTOCOL.md names only Python and PHP as treating "exception": null as success, so the
    # Ruby client here treats the mere presence of the key as an error (an inference).
    raise RemoteError, response['exception'].to_s if response.key?('exception')

    response['return_value']
  end
end

TYPES = [0, -42, 2**53 + 1, 1e-07, -0.0, 2.5, 5.0,
         "h\u00e9llo w\u00f6rld \u{1F600}", '/slash/', "tab\t \"q\" \\ end", '',
         [1, [2, [3, 'x']], { 'k' => [true, nil] }], { 'a' => 1, 'b' => { 'c' => [1, 2] }, 'u' => "\u00fc" },
         nil, true, false, [], {}].freeze

# Returns [name, args, kwargs] triples for a named call sequence.
def script_calls(script)
  case script
  when 'calculator'
    [['clr', [], {}], ['add', [5], {}], ['sub', [3], {}], ['mul', [4], {}], ['div', [2], {}],
     ['val', [], {}]]
  when 'types' then TYPES.map { |v| ['echo', [v], {}] }
  when 'kwargs' then [['describe', [1], { b: 2 }]]
  when 'wire' # one call per request-format feature, for byte-level tests
    [['add', [5], {}], ['echo', ["h\u00e9llo w\u00f6rld \u{1F600} /slash/"], {}], ['echo', [5.0], {}],
     ['describe', [1], { b: 2 }], ['val', [], {}]]
  when 'errors' then [['clr', [], {}], ['div', [0], {}], ['nope', [], {}], ['val', [], {}]]
  when /\Araw:/
    spec = JSON.parse(script[4..])
    kwargs = (spec['kwargs'] || {}).transform_keys(&:to_sym)
    [[spec['name'], spec['args'] || [], kwargs]]
  else abort "unknown script: #{script}"
  end
end

def run_client(redis, queue, timeout, script)
  client = Client.new(redis, queue, timeout)
  script_calls(script).each do |name, args, kwargs|
    line = { 'call' => name }
    begin
      line.merge!('ok' => true, 'value' => client.call(name, *args, **kwargs))
    rescue RemoteError => e
      line.merge!('ok' => false, 'kind' => 'remote', 'error' => e.message)
    rescue CallTimeout => e
      line.merge!('ok' => false, 'kind' => 'timeout', 'error' => e.message)
    end
    line['request'] = client.last_request
    $stdout.puts JSON.generate(line)
    $stdout.flush
  end
  $stdout.puts 'END' # lets a reader know it has seen all of the output
  $stdout.flush
end

mode = ARGV.shift
opts = { timeout: 0, once: nil, delete_queue: false }
OptionParser.new do |o|
  o.on('--url URL') { |v| opts[:url] = v }
  o.on('--queue Q') { |v| opts[:queue] = v }
  o.on('--once N', Integer) { |v| opts[:once] = v }
  o.on('--delete-queue') { opts[:delete_queue] = true }
  o.on('--timeout SECONDS', Float) { |v| opts[:timeout] = v }
end.parse!(ARGV)
abort 'usage: classic_peer.rb server|client --url URL --queue Q ...' unless opts[:url] && opts[:queue]

Signal.trap('TERM') { exit 0 } # exit cleanly, even while blocked in BLPOP
redis = Redis.new(url: opts[:url])
case mode
when 'server' then serve(redis, opts[:queue], opts[:once], opts[:delete_queue])
when 'client' then run_client(redis, opts[:queue], opts[:timeout], ARGV.first || abort('client needs a script'))
else abort "unknown mode: #{mode}"
end
