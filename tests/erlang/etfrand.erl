%% Random Erlang terms of every type term_to_binary can produce, for
%% tests/erlang/test_etf_erl.py (Python must decode and re-encode them to the
%% very same bytes). Uses the process's rand state: seed it first.
-module(etfrand).
-export([term/0, term/2, adder/1]).

term() -> term(4, any).

adder(Y) -> fun(X) -> X + Y end.

pick(L) -> lists:nth(rand:uniform(length(L)), L).

%% Kind = any | key: keys leave out pids, ports, refs and funs, whose
%% ordering under [deterministic] depends on erts internals.
term(0, Kind) -> scalar(Kind);
term(D, Kind) ->
    case rand:uniform(10) of
        N when N =< 4 -> scalar(Kind);
        5 -> [term(D - 1, Kind) || _ <- lists:seq(1, rand:uniform(6) - 1)];
        6 -> list_to_tuple([term(D - 1, Kind) || _ <- lists:seq(1, rand:uniform(5) - 1)]);
        7 -> improper(D, Kind);
        8 -> small_map(D, Kind);
        9 -> case rand:uniform(8) of 1 -> big_map(); _ -> small_map(D, Kind) end;
        10 -> string_like()
    end.

improper(D, Kind) ->
    Items = [term(D - 1, Kind) || _ <- lists:seq(1, rand:uniform(3))],
    Tail = case scalar(Kind) of L when is_list(L) -> tail; T -> T end,
    Items ++ Tail.

small_map(D, Kind) ->
    maps:from_list([{term(D - 1, key), term(D - 1, Kind)} || _ <- lists:seq(1, rand:uniform(6) - 1)]).

big_map() ->
    maps:from_list([{scalar(key), scalar(any)} || _ <- lists:seq(1, 33 + rand:uniform(20))]).

string_like() ->
    case rand:uniform(3) of
        1 -> [rand:uniform(256) - 1 || _ <- lists:seq(1, rand:uniform(20))];
        2 -> lists:seq(0, 255);
        3 -> [rand:uniform(1000) || _ <- lists:seq(1, rand:uniform(5))]
    end.

scalar(Kind) ->
    Max = case Kind of key -> 9; any -> 12 end,
    case rand:uniform(Max) of
        1 -> atom();
        2 -> rand:uniform(256) - 1;
        3 -> rand:uniform(1 bsl 32) - (1 bsl 31) - 1;
        4 -> bignum();
        5 -> float();
        6 -> crypto_bytes(rand:uniform(12) - 1);
        7 -> unicode:characters_to_binary([pick([$a, $Z, $é, 26085, 127881, $\n]) || _ <- lists:seq(1, rand:uniform(6))]);
        8 -> bits();
        9 -> pick([[], {}, #{}, <<>>, true, false, nil]);
        10 -> pick([self(), list_to_pid("<0.1.0>"), list_to_pid("<0.4294.77>")]);
        11 -> pick([make_ref(), hd(erlang:ports()), fun erlang:abs/1, fun lists:map/2]);
        12 -> adder(rand:uniform(100))
    end.

atom() ->
    pick([ok, error, nil, undefined, 'héllo', '日本', 'Elixir.DateTime', '', 'with space',
          list_to_atom(lists:duplicate(rand:uniform(255), $x)),
          list_to_atom(lists:duplicate(rand:uniform(100), 26085)),
          list_to_atom([rand:uniform(26) + $a - 1 || _ <- lists:seq(1, rand:uniform(8))])]).

bignum() ->
    Bits = 32 + rand:uniform(2100),
    V = rand:uniform(1 bsl Bits),
    case rand:uniform(2) of 1 -> V; 2 -> -V end.

float() ->
    case rand:uniform(6) of
        1 -> rand:uniform();
        2 -> -rand:uniform() * 1.0e10;
        3 -> 0.0;
        4 -> -0.0;
        5 -> rand:uniform() * math:pow(10, rand:uniform(600) - 300);
        6 -> float(rand:uniform(1000))
    end.

crypto_bytes(N) -> list_to_binary([rand:uniform(256) - 1 || _ <- lists:seq(1, N)]).

bits() ->
    N = rand:uniform(7),
    Bytes = crypto_bytes(rand:uniform(4) - 1),
    X = rand:uniform(1 bsl N) - 1,
    <<Bytes/binary, X:N>>.
