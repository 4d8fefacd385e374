%% Generates tests/fixtures/etf/vectors.json: real term_to_binary output for a
%% fixed corpus, under every option the Python encoder mirrors.
%%
%% Regenerate (OTP 25+; erlc ships in Debian's erlang-base):
%%   erlc -o /tmp tests/erlang/etfgen.erl
%%   erl -noshell -pa /tmp -eval 'etfgen:main(["tests/fixtures/etf/vectors.json"])' -s init stop
%%
%% Columns: v1 = term_to_binary(T) on OTP 25 (minor_version 1), v2 = with
%% {minor_version,2} (the OTP 26+ default), d1/d2 = the same plus
%% deterministic, z1/z2 = the same plus compressed (level 6), z2_1 = level 1.
-module(etfgen).
-export([main/1, terms/0, local_fun/0, adder/1]).

local_fun() -> fun(X) -> X + 1 end.

adder(Y) -> fun(X) -> X + Y end.

big_map(N) -> maps:from_list([{list_to_binary("k" ++ integer_to_list(I)), I} || I <- lists:seq(1, N)]).

terms() ->
    [
     {atom_ok, ok},
     {atom_true, true},
     {atom_false, false},
     {atom_nil, nil},
     {atom_undefined, undefined},
     {atom_error, error},
     {atom_latin1, 'héllo'},
     {atom_utf8, '日本'},
     {atom_long_utf8, list_to_atom(lists:duplicate(100, 26085))},
     {atom_255_latin1, list_to_atom(lists:duplicate(255, $a))},
     {atom_elixir_module, 'Elixir.DateTime'},
     {atom_empty, ''},
     {int_0, 0},
     {int_255, 255},
     {int_256, 256},
     {int_neg1, -1},
     {int_max32, 2147483647},
     {int_min32, -2147483648},
     {int_2pow31, 2147483648},
     {int_min32_minus1, -2147483649},
     {int_2pow64, 18446744073709551616},
     {int_2pow64_minus1, 18446744073709551615},
     {int_neg_2pow200, -(1 bsl 200)},
     {int_2pow2040_minus1, (1 bsl 2040) - 1},
     {int_2pow2048, 1 bsl 2048},
     {float_1_5, 1.5},
     {float_neg_zero, -0.0},
     {float_0_1, 0.1},
     {float_big, 1.0e308},
     {float_tiny, 5.0e-324},
     {float_neg, -123.456},
     {bin_hello, <<"hello">>},
     {bin_empty, <<>>},
     {bin_invalid_utf8, <<255,0,254>>},
     {bin_utf8, <<"héllo 日本"/utf8>>},
     {bin_emoji, <<"🎉"/utf8>>},
     {bits_3, <<1:3>>},
     {bits_9, <<255, 1:1>>},
     {bits_7, <<127:7>>},
     {charlist_abc, "abc"},
     {nil, []},
     {list_mixed, [1, 2, 300]},
     {list_bytes_0_255, lists:seq(0, 255)},
     {list_of_bins, [<<"a">>, <<"b">>]},
     {charlist_unicode, [26085, 26412]},
     {list_with_bool, [1, true]},
     {list_nested, [[1], [[2]], []]},
     {improper_1_2, [1|2]},
     {improper_atoms, [a, b | <<"c">>]},
     {keyword, [{a, 1}, {b, 2}]},
     {tuple_empty, {}},
     {tuple_ok, {ok, 1}},
     {tuple_ok_done, {ok, <<"done">>}},
     {tuple_error, {error, <<"boom">>}},
     {tuple_300, list_to_tuple(lists:seq(1, 300))},
     {tuple_255, list_to_tuple(lists:duplicate(255, 0))},
     {tuple_256, list_to_tuple(lists:duplicate(256, 0))},
     {map_empty, #{}},
     {map_str_keys, #{<<"count">> => 42, <<"name">> => <<"oban">>}},
     {map_elixir_job, #{<<"id">> => 1, <<"tags">> => [<<"a">>, <<"b">>]}},
     {map_atom_keys, #{id => 1, status => ok}},
     {map_mixed_keys, #{<<"a">> => 1, b => 2}},
     {map_atom_and_bin_a, #{a => 1, <<"a">> => 2}},
     {map_nonstring_keys, #{1 => a, {x, y} => b, #{k => v} => c, [1, 2] => d, 2.5 => e}},
     {map_int_float_true, #{1 => a, 1.0 => b, true => c}},
     {map_int_before_float, #{2 => a, 1.5 => b}},
     {map_list_keys, #{[] => a, [1] => b, [1|2] => c, "ab" => d}},
     {map_nil_key, #{nil => 1, <<"nil">> => 2}},
     {map_nested, #{<<"outer">> => #{<<"inner">> => [1, 2.0, <<"x">>]}}},
     {map_unicode_keys, #{<<"é"/utf8>> => 1, <<"z">> => 2, <<"日"/utf8>> => 3, <<"Z">> => 4}},
     {map_32_keys, big_map(32)},
     {map_33_keys, big_map(33)},
     {map_40_keys, big_map(40)},
     {datetime_struct, #{'__struct__' => 'Elixir.DateTime', year => 2024, month => 1, day => 2,
                         hour => 3, minute => 4, second => 5, microsecond => {0, 0},
                         time_zone => <<"Etc/UTC">>, zone_abbr => <<"UTC">>, utc_offset => 0,
                         std_offset => 0, calendar => 'Elixir.Calendar.ISO'}},
     {list_compressible, lists:duplicate(50, <<"abcabcabc">>)},
     {string_10000_x, binary:copy(<<"x">>, 10000)},
     {pid, self()},
     {ref, make_ref()},
     {port, hd(erlang:ports())},
     {export_fun, fun erlang:abs/1},
     {local_fun, local_fun()},
     {closure_with_free_vars, adder(7)}
    ].

hex(B) -> [io_lib:format("~2.16.0b", [X]) || <<X>> <= B].

json_str(S) ->
    Chars = lists:flatten(io_lib:format("~0tp", [S])),
    Esc = lists:map(fun($") -> "\\\"";
                       ($\\) -> "\\\\";
                       (C) when C < 32 -> io_lib:format("\\u~4.16.0b", [C]);
                       (C) -> [C]
                    end, Chars),
    [$", unicode:characters_to_binary(lists:flatten(Esc)), $"].

entry({Name, T}) ->
    Cols = [{v1, []}, {v2, [{minor_version, 2}]},
            {d1, [deterministic]}, {d2, [deterministic, {minor_version, 2}]},
            {z1, [compressed]}, {z2, [compressed, {minor_version, 2}]},
            {z2_1, [{compressed, 1}, {minor_version, 2}]}],
    Fields = [io_lib:format("\"~s\": \"~s\"", [C, hex(term_to_binary(T, O))]) || {C, O} <- Cols],
    ["  {\"name\": \"", atom_to_list(Name), "\", \"erlang\": ", json_str(T), ",\n   ",
     lists:join(",\n   ", Fields), "}"].

main([Path]) ->
    Body = ["{\"otp_release\": \"", erlang:system_info(otp_release), "\",\n \"vectors\": [\n",
            lists:join(",\n", [entry(E) || E <- terms()]), "\n]}\n"],
    ok = file:write_file(Path, unicode:characters_to_binary(Body)).
